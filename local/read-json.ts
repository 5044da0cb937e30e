/**
 * The JSON object body of a request to a local AWS stand-in (local/api-gateway.ts,
 * local/scheduler.ts): `{}` when empty, else `invalid()`'s error (each service's own error type)
 * for anything but a JSON object.
 */
import type { IncomingMessage } from 'node:http';

export async function readJsonObject(req: IncomingMessage, invalid: () => Error): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    const body = JSON.parse(text) as unknown;
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw invalid();
}
