/**
 * `Content.Simple.Attachments` of a SendEmail request, checked as SES v2 documents the Attachment
 * type (API reference, "Attachment"): FileName required, at most 255 characters, not one of SES's
 * unsupported attachment types; RawContent required (base64 on the wire, which the SDK does);
 * ContentDisposition ATTACHMENT | INLINE; ContentTransferEncoding BASE64 | QUOTED_PRINTABLE |
 * SEVEN_BIT; ContentType and ContentId 1–78 characters; the whole message at most 40 MB. The
 * error codes are SES's (BadRequestException for a malformed field, MessageRejected for content
 * SES will not send); the messages are ours, SES does not publish its wording.
 */
import { createHash } from 'node:crypto';
import { isBase64, isUnsupportedAttachment } from '../../shared/rules/attachments';
import { SesError } from './errors';

/** What the local SES keeps of an accepted attachment: its metadata and a digest of its bytes. */
export interface ReceivedAttachment {
  fileName: string;
  contentType?: string;
  contentDisposition: 'ATTACHMENT' | 'INLINE';
  contentId?: string;
  contentTransferEncoding: 'BASE64' | 'QUOTED_PRINTABLE' | 'SEVEN_BIT';
  /** Decoded bytes. */
  size: number;
  /** SHA-256 of the decoded bytes, hex. */
  sha256: string;
}

/** SES's limit on a whole message, attachments included. */
export const MAX_MESSAGE_BYTES = 40 * 1024 * 1024;
const DISPOSITIONS = ['ATTACHMENT', 'INLINE'] as const;
const ENCODINGS = ['BASE64', 'QUOTED_PRINTABLE', 'SEVEN_BIT'] as const;

function bad(message: string): SesError {
  return new SesError('BadRequestException', 400, message);
}

function optionalString(v: unknown, field: string, max: number): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length < 1 || v.length > max) throw bad(`${field} must be a string of 1 to ${max} characters`);
  return v;
}

export function parseAttachments(raw: unknown, bodyBytes: number): ReceivedAttachment[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw bad('Attachments must be a list');
  let total = bodyBytes;
  const out = raw.map((a: Record<string, unknown>, i): ReceivedAttachment => {
    const at = `Attachments[${i}]`;
    const fileName = a?.FileName;
    if (typeof fileName !== 'string' || fileName.length === 0) throw bad(`${at}.FileName is required`);
    if (fileName.length > 255) throw bad(`${at}.FileName must be at most 255 characters`);
    if (typeof a.RawContent !== 'string' || !isBase64(a.RawContent)) throw bad(`${at}.RawContent is required and must be base64`);
    const disposition = a.ContentDisposition ?? 'ATTACHMENT';
    if (!(DISPOSITIONS as readonly unknown[]).includes(disposition)) throw bad(`${at}.ContentDisposition must be one of ${DISPOSITIONS.join(', ')}`);
    const encoding = a.ContentTransferEncoding ?? 'SEVEN_BIT';
    if (!(ENCODINGS as readonly unknown[]).includes(encoding)) throw bad(`${at}.ContentTransferEncoding must be one of ${ENCODINGS.join(', ')}`);
    const contentType = optionalString(a.ContentType, `${at}.ContentType`, 78);
    const contentId = optionalString(a.ContentId, `${at}.ContentId`, 78);
    if (isUnsupportedAttachment(fileName)) throw new SesError('MessageRejected', 400, `Attachment type not supported: ${fileName}`);
    const bytes = Buffer.from(a.RawContent, 'base64');
    total += bytes.byteLength;
    return {
      fileName,
      ...(contentType !== undefined ? { contentType } : {}),
      contentDisposition: disposition as ReceivedAttachment['contentDisposition'],
      ...(contentId !== undefined ? { contentId } : {}),
      contentTransferEncoding: encoding as ReceivedAttachment['contentTransferEncoding'],
      size: bytes.byteLength,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
  });
  if (total > MAX_MESSAGE_BYTES) throw new SesError('MessageRejected', 400, `Message length exceeds ${MAX_MESSAGE_BYTES} bytes`);
  return out;
}
