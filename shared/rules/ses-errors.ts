/**
 * Classifies what SES v2 SendEmail answered. The classes drive the sender:
 * - `throttled`: TooManyRequests / "Maximum sending rate exceeded" — back off, retry, never lose.
 * - `retryable`: 5xx and connection failures before the request reached SES — retry.
 * - `hold`: the daily quota is used up — hold the send (job `deferred`) until quota frees.
 * - `permanent`: MessageRejected, bad address, SendingPaused, AccountSuspended and any other
 *   4xx — retrying cannot help; the recipient counts as failed with the reason kept.
 * - `unknown`: no answer after the request may have reached SES (timeout, reset). SES might
 *   have accepted the email; see docs/sending.md for why such a send is not retried.
 */
export type SesErrorClass = 'throttled' | 'retryable' | 'hold' | 'permanent' | 'unknown';

export interface ClassifiedSesError {
  class: SesErrorClass;
  /** Short reason kept on the job (the SES error code). */
  code: string;
  message: string;
}

/** Connection errors that happen before any byte reaches SES, so SES cannot have accepted. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export function classifySesError(err: unknown): ClassifiedSesError {
  const e = (err ?? {}) as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; cause?: unknown };
  const status = e.$metadata?.httpStatusCode;
  const code = e.name && e.name !== 'Error' ? e.name : (e.code ?? 'Error');
  const message = String(e.message ?? err);
  if (status === undefined) {
    const sysCode = e.code ?? (e.cause as { code?: string } | undefined)?.code;
    if (sysCode && NOT_SENT_CODES.has(sysCode)) return { class: 'retryable', code: sysCode, message };
    return { class: 'unknown', code: sysCode ?? code, message };
  }
  if (/daily message quota exceeded/i.test(message)) return { class: 'hold', code: 'DailyQuotaExceeded', message };
  if (status === 429 || code === 'TooManyRequestsException' || code === 'Throttling' || code === 'ThrottlingException' || /maximum sending rate exceeded/i.test(message)) {
    return { class: 'throttled', code: 'TooManyRequestsException', message };
  }
  if (code === 'LimitExceededException') return { class: 'hold', code, message };
  if (status >= 500) return { class: 'retryable', code, message };
  return { class: 'permanent', code, message };
}
