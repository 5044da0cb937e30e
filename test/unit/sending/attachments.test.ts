/** The attachment rules (shared/rules/attachments.ts) and how the contract applies them to a send request. */
import { describe, expect, it } from 'vitest';
import { SendEmailRequest } from '../../../shared/contract/sending';
import { decodedLength, extensionOf, isBase64, isPlainFilename, isUnsupportedAttachment, MAX_ATTACHMENT_BYTES } from '../../../shared/rules/attachments';

describe('attachment rules', () => {
  it('accepts padded standard base64 only, and knows its decoded length without decoding', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 1000]) {
      const b = Buffer.alloc(n, 0xfb);
      const s = b.toString('base64');
      expect(isBase64(s), s).toBe(true);
      expect(decodedLength(s)).toBe(n);
    }
    for (const bad of ['aGVsbG8', 'aGVs bG8=', 'a===', '-_-_', 'aGVsbG8=\n', 'aG=s']) expect(isBase64(bad), bad).toBe(false);
    // Megabytes are checked without exhausting the regex engine's stack (a 500 before the fix).
    expect(isBase64(Buffer.alloc(5 * 1024 * 1024, 7).toString('base64'))).toBe(true);
  });

  it("refuses SES's unsupported attachment types by extension, case-insensitively, and nothing else", () => {
    for (const f of ['setup.exe', 'SETUP.EXE', 'a.pdf.js', 'x.vsmacros', 'y.ps1xml', 'z.msh2xml']) expect(isUnsupportedAttachment(f), f).toBe(true);
    for (const f of ['report.pdf', 'photo.jpeg', 'exe', 'notes.exe.txt', 'archive.zip', 'README']) expect(isUnsupportedAttachment(f), f).toBe(false);
    expect(extensionOf('a.tar.GZ')).toBe('gz');
    expect(extensionOf('noext')).toBeUndefined();
  });

  it('takes plain file names only', () => {
    for (const f of ['report.pdf', 'Résumé 2026.docx', 'a b.txt']) expect(isPlainFilename(f), f).toBe(true);
    for (const f of ['../x.txt', 'a/b.txt', 'a\\\\b.txt', ' lead.txt', 'x\r\nBcc: y.txt', 'q"uote.txt', '..']) expect(isPlainFilename(f), f).toBe(false);
  });
});

describe('SendEmailRequest attachments', () => {
  const base = { from: 'a@example.com', to: ['b@example.com'], subject: 's', text: 't' };
  const fieldOf = (body: unknown) => {
    const r = SendEmailRequest.safeParse(body);
    return r.success ? 'ok' : r.error.issues[0]?.path.join('.');
  };

  it('counts the 7 MB limit in decoded bytes, across all files of the email', () => {
    const half = MAX_ATTACHMENT_BYTES / 2;
    const at = (n: number) => ({ filename: 'a.bin', content: Buffer.alloc(n).toString('base64') });
    expect(fieldOf({ ...base, attachments: [at(half), at(half)] })).toBe('ok');
    expect(fieldOf({ ...base, attachments: [at(half), at(half + 1)] })).toBe('attachments');
  });

  it('allows no attachments, an empty list and up to ten files', () => {
    const one = { filename: 'a.txt', content: 'YQ==' };
    expect(fieldOf(base)).toBe('ok');
    expect(fieldOf({ ...base, attachments: [] })).toBe('ok');
    expect(fieldOf({ ...base, attachments: Array(10).fill(one) })).toBe('ok');
    expect(fieldOf({ ...base, attachments: Array(11).fill(one) })).toBe('attachments');
  });
});
