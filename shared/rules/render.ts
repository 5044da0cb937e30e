/**
 * `{{name}}` placeholders, rendered by Mailmeter itself (docs/sending.md says why not SES
 * templates). Values are HTML-escaped in the HTML part only; the subject and text part get
 * them verbatim. A placeholder without a value is an error, never an empty string, so a
 * half-personalised email is never sent.
 */

export type Variables = Record<string, string | number | boolean>;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

/** Names of every placeholder used in the given texts, deduplicated, in order of first use. */
export function placeholdersOf(...texts: (string | undefined)[]): string[] {
  const names = new Set<string>();
  for (const t of texts) if (t) for (const m of t.matchAll(PLACEHOLDER)) if (m[1]) names.add(m[1]);
  return [...names];
}

/** The value of one placeholder: only the variables' own properties count (never `constructor` & co.). */
function valueOf(variables: Variables | undefined, name: string): string | number | boolean | undefined {
  return variables !== undefined && Object.hasOwn(variables, name) ? variables[name] : undefined;
}

/** Placeholders in `names` that `variables` does not define. */
export function missingVariables(names: readonly string[], variables: Variables | undefined): string[] {
  return names.filter((n) => valueOf(variables, n) === undefined);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

export class RenderError extends Error {
  constructor(readonly missing: string[]) {
    super(`missing variables: ${missing.join(', ')}`);
    this.name = 'RenderError';
  }
}

export function renderText(template: string, variables: Variables | undefined, opts: { html?: boolean } = {}): string {
  const missing: string[] = [];
  const out = template.replace(PLACEHOLDER, (_all, name: string) => {
    const v = valueOf(variables, name);
    if (v === undefined) {
      missing.push(name);
      return '';
    }
    return opts.html ? escapeHtml(String(v)) : String(v);
  });
  if (missing.length) throw new RenderError([...new Set(missing)]);
  return out;
}

export interface Content {
  subject: string;
  html?: string;
  text?: string;
}

export function renderContent(content: Content, variables: Variables | undefined): Content {
  return {
    subject: renderText(content.subject, variables).replace(/[\r\n]+/g, ' '),
    html: content.html === undefined ? undefined : renderText(content.html, variables, { html: true }),
    text: content.text === undefined ? undefined : renderText(content.text, variables),
  };
}
