import type { Attachment } from '../shared/contract/sending';

/** Standard base64 of bytes, in Node and in browsers (no Buffer needed). */
function base64Of(bytes: Uint8Array): string {
  let binary = '';
  // Chunks keep String.fromCharCode's argument list small for multi-megabyte files.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/**
 * One entry of `attachments` from a file's bytes (a string is sent as its UTF-8 bytes). With
 * `contentId`, the file is an inline part the html shows as `<img src="cid:<contentId>">`.
 */
export function attachment(
  filename: string,
  content: Uint8Array | ArrayBuffer | string,
  options: { contentType?: string; contentId?: string } = {},
): Attachment {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content instanceof Uint8Array ? content : new Uint8Array(content);
  return {
    filename,
    content: base64Of(bytes),
    ...(options.contentType !== undefined ? { contentType: options.contentType } : {}),
    ...(options.contentId !== undefined ? { contentId: options.contentId } : {}),
  };
}
