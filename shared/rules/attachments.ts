/**
 * Attachment rules of the send routes, and SES's own. SES v2 `SendEmail` takes attachments in
 * `Content.Simple.Attachments` (FileName ≤ 255 characters, ContentType and ContentId ≤ 78) and
 * refuses files whose extension is on its list of unsupported attachment types (SES Developer
 * Guide, "Amazon SES unsupported attachment types"); we refuse them first, as a 400.
 */

export const MAX_ATTACHMENTS = 10;
/** Decoded bytes of all attachments of one email: base64 adds a third, so a request stays under API Gateway's 10 MB. */
export const MAX_ATTACHMENT_BYTES = 7 * 1024 * 1024;
export const MAX_FILENAME_LENGTH = 255;
/**
 * How long the attachment bucket keeps an object (its lifecycle rule): the sender deletes a job's
 * objects when the job finishes; this only expires what a crash left behind, so it outlives the
 * longest wait before a send (a schedule of up to 30 days, plus holds).
 */
export const ATTACHMENT_RETENTION_DAYS = 35;
export const MAX_CONTENT_TYPE_LENGTH = 78;
export const MAX_CONTENT_ID_LENGTH = 78;

/** SES's list of unsupported attachment types (file extensions, compared case-insensitively). */
export const UNSUPPORTED_EXTENSIONS: ReadonlySet<string> = new Set(
  (
    'ade adp app asp bas bat cer chm cmd com cpl crt csh der exe fxp gadget hlp hta inf ins isp its js jse ksh lib lnk ' +
    'mad maf mag mam maq mar mas mat mau mav maw mda mdb mde mdt mdw mdz msc msh msh1 msh2 mshxml msh1xml msh2xml msi msp mst ' +
    'ops pcd pif plg prf prg reg scf scr sct shb shs sys ps1 ps1xml ps2 ps2xml psc1 psc2 tmp url vb vbe vbs vps vsmacros ' +
    'vss vst vsw vxd ws wsc wsf wsh xnk'
  ).split(' '),
);

/** The extension SES judges a file name by (lower case, without the dot), or undefined. */
export function extensionOf(filename: string): string | undefined {
  const dot = filename.trim().lastIndexOf('.');
  return dot < 0 ? undefined : filename.trim().slice(dot + 1).toLowerCase();
}

export function isUnsupportedAttachment(filename: string): boolean {
  const ext = extensionOf(filename);
  return ext !== undefined && UNSUPPORTED_EXTENSIONS.has(ext);
}

/** The base64 alphabet then at most two `=`: a single character class, so megabytes never exhaust the regex engine's stack. */
const BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;

/** Standard base64 (RFC 4648 §4) with padding; no whitespace, no URL-safe alphabet. */
export function isBase64(s: string): boolean {
  return s.length % 4 === 0 && BASE64_CHARS.test(s);
}

/** Decoded length of valid base64, without decoding it. */
export function decodedLength(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}

/** A file name shown to the recipient: no path, no control characters, no header-breaking quotes. */
export function isPlainFilename(filename: string): boolean {
  return !/[\\/\u0000-\u001f\u007f"]/.test(filename) && filename.trim() === filename && filename !== '.' && filename !== '..';
}

/** `type/subtype`, as SES's ContentType takes it. */
export const CONTENT_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$/;
/** What `cid:` in the HTML refers to: a Content-ID without angle brackets. */
export const CONTENT_ID = /^[A-Za-z0-9!#$%&'*+\-./=?^_`{|}~@]+$/;
