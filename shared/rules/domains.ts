/**
 * Sending domains, the pure part: what a valid domain name is (lower case, IDNs in punycode, no
 * IP literal, not a public suffix such as `com` or `co.uk`), which names a claim covers (the
 * name and its parents up to the registrable domain), the DNS records a tenant publishes, and
 * how SES's verification status reads in the API.
 */
import { domainToASCII } from 'node:url';
import { parse } from 'tldts';

export const DOMAIN_STATUSES = ['pending', 'verified', 'failed', 'temporary_failure'] as const;
export type DomainStatus = (typeof DOMAIN_STATUSES)[number];

export type DomainCheck = { ok: true; domain: string; registrable: string } | { ok: false; reason: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Normalises and validates a domain name as a tenant would type it. */
export function checkDomainName(input: string): DomainCheck {
  const trimmed = input.trim().replace(/\.$/, '');
  if (!trimmed) return { ok: false, reason: 'is empty' };
  if (/^\[.*\]$/.test(trimmed) || /^[\d.]+$/.test(trimmed) || trimmed.includes(':')) return { ok: false, reason: 'is an IP address, not a domain' };
  const ascii = domainToASCII(trimmed.toLowerCase());
  if (!ascii) return { ok: false, reason: 'is not a valid domain name' };
  if (ascii.length > 253) return { ok: false, reason: 'is longer than 253 characters' };
  if (!ascii.split('.').every((l) => LABEL.test(l))) return { ok: false, reason: 'is not a valid domain name' };
  const parsed = parse(ascii, { allowPrivateDomains: true });
  if (parsed.isIp) return { ok: false, reason: 'is an IP address, not a domain' };
  if (!parsed.domain) return { ok: false, reason: `is a public suffix (${parsed.publicSuffix ?? ascii}); use a domain registered under it` };
  return { ok: true, domain: ascii, registrable: parsed.domain };
}

/** The name and each parent down to the registrable domain: `a.b.example.org` → itself, `b.example.org`, `example.org`. */
export function domainLineage(domain: string, registrable: string): string[] {
  const out: string[] = [];
  let name = domain;
  while (name.length >= registrable.length) {
    out.push(name);
    if (name === registrable) break;
    name = name.slice(name.indexOf('.') + 1);
  }
  return out;
}

/** The domain part of an address or mailbox (`Name <a@b.example>` → `b.example`), lower case. */
export function domainOfAddress(mailbox: string): string {
  const match = /<([^>]*)>\s*$/.exec(mailbox);
  const address = (match ? match[1] : mailbox)?.trim() ?? '';
  return domainToASCII(address.slice(address.lastIndexOf('@') + 1).toLowerCase()) || address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** The names a send from `domain` may be covered by: the domain and every parent with a dot in it. */
export function coveringNames(domain: string): string[] {
  const out: string[] = [];
  for (let name = domain; name.includes('.'); name = name.slice(name.indexOf('.') + 1)) out.push(name);
  return out;
}

export interface DnsRecord {
  type: 'CNAME' | 'MX' | 'TXT';
  name: string;
  value: string;
  purpose: 'dkim' | 'mail_from_mx' | 'mail_from_spf' | 'dmarc';
}

/** What the tenant publishes: SES's three Easy DKIM CNAMEs, the MAIL FROM MX and SPF (when the stage uses one), a DMARC suggestion. */
export function dnsRecords(domain: string, dkimTokens: readonly string[], opts: { region: string; mailFromSubdomain?: string }): DnsRecord[] {
  const records: DnsRecord[] = dkimTokens.map((token) => ({
    type: 'CNAME',
    name: `${token}._domainkey.${domain}`,
    value: `${token}.dkim.amazonses.com`,
    purpose: 'dkim',
  }));
  if (opts.mailFromSubdomain) {
    const mailFrom = `${opts.mailFromSubdomain}.${domain}`;
    records.push({ type: 'MX', name: mailFrom, value: `10 feedback-smtp.${opts.region}.amazonses.com`, purpose: 'mail_from_mx' });
    records.push({ type: 'TXT', name: mailFrom, value: '"v=spf1 include:amazonses.com ~all"', purpose: 'mail_from_spf' });
  }
  records.push({ type: 'TXT', name: `_dmarc.${domain}`, value: '"v=DMARC1; p=none;"', purpose: 'dmarc' });
  return records;
}

/** SES v2 `VerificationStatus` → the API's status. */
export function domainStatusOf(sesStatus: string | undefined): DomainStatus {
  switch (sesStatus) {
    case 'SUCCESS':
      return 'verified';
    case 'FAILED':
      return 'failed';
    case 'TEMPORARY_FAILURE':
      return 'temporary_failure';
    default:
      return 'pending';
  }
}

/** SES stops trying to verify a domain 72 hours after it was created. */
export const VERIFICATION_WINDOW_MS = 72 * 3600 * 1000;

/** When to look at a pending domain again: base, 2×, 4× … after creation (base 1 minute on AWS), at most hourly. */
export function nextCheckDelayMs(checks: number, baseMs = 60_000): number {
  return Math.min(baseMs * 2 ** Math.max(0, checks), 3600_000);
}
