/** The SDK's `attachment()` helper builds what the contract accepts, from bytes or text. */
import { describe, expect, it } from 'vitest';
import { attachment } from '../../../sdk';
import { SendEmailRequest } from '../../../shared/contract/sending';

describe('attachment()', () => {
  it('encodes bytes, ArrayBuffers and text as standard base64 the API accepts', () => {
    const bytes = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
    const a = attachment('data.bin', bytes, { contentType: 'application/octet-stream' });
    expect(Buffer.from(a.content, 'base64').equals(Buffer.from(bytes))).toBe(true);
    expect(attachment('b.bin', bytes.buffer).content).toBe(a.content);
    const logo = attachment('logo.svg', '<svg/>é', { contentType: 'image/svg+xml', contentId: 'logo' });
    expect(Buffer.from(logo.content, 'base64').toString('utf8')).toBe('<svg/>é');
    expect(logo).toMatchObject({ filename: 'logo.svg', contentType: 'image/svg+xml', contentId: 'logo' });
    const body = { from: 'a@example.com', to: ['b@example.com'], subject: 's', html: '<img src="cid:logo">', attachments: [a, logo] };
    expect(SendEmailRequest.safeParse(body).success).toBe(true);
  });
});
