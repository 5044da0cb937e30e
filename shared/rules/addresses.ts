/**
 * Email address checks for the API. Deliberately close to what SES accepts (a local part, one
 * `@`, a dotted domain, no spaces or angle brackets), so a request SES would refuse as a bad
 * address is a 400 at the API instead of a failed send later.
 */
const ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const NAMED = /^\s*("?)([^"<>\r\n]{0,200})\1\s*<([^<>\s]+)>\s*$/;

export function isAddress(s: string): boolean {
  return s.length <= 320 && ADDRESS.test(s) && !s.includes('..');
}

/** A From / Reply-To address: a bare address or `Display Name <address>`. */
export function isMailbox(s: string): boolean {
  const m = NAMED.exec(s);
  return m ? isAddress(m[3] ?? '') : isAddress(s);
}

/** SES message tag names and values: 0-9, A-Z, a-z, `_` and `-`, at most 256 characters. */
export const TAG_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

/** Tags Mailmeter sets itself on every send; a caller may not override them. */
export const RESERVED_TAGS = ['tenant', 'job', 'template'] as const;
