import { describe, expect, it } from 'vitest';
import { classifySesError } from '../../../shared/rules/ses-errors';

const sdkError = (name: string, status: number, message = 'x') => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

describe('classifySesError', () => {
  it('treats 429 and "Maximum sending rate exceeded" as throttling', () => {
    expect(classifySesError(sdkError('TooManyRequestsException', 429, 'Maximum sending rate exceeded.')).class).toBe('throttled');
    expect(classifySesError(sdkError('Throttling', 400, 'Maximum sending rate exceeded.')).class).toBe('throttled');
  });
  it('treats 5xx as retryable', () => {
    expect(classifySesError(sdkError('InternalFailure', 500))).toMatchObject({ class: 'retryable', code: 'InternalFailure' });
    expect(classifySesError(sdkError('ServiceUnavailable', 503)).class).toBe('retryable');
  });
  it('treats the daily quota as a hold, whichever error SES uses for it', () => {
    expect(classifySesError(sdkError('LimitExceededException', 400, 'Daily message quota exceeded.')).class).toBe('hold');
    expect(classifySesError(sdkError('Throttling', 400, 'Daily message quota exceeded.')).class).toBe('hold');
  });
  it('treats rejections, bad addresses, paused and suspended accounts as permanent, keeping the code', () => {
    for (const name of ['MessageRejected', 'BadRequestException', 'SendingPausedException', 'AccountSuspendedException', 'MailFromDomainNotVerifiedException']) {
      expect(classifySesError(sdkError(name, 400))).toMatchObject({ class: 'permanent', code: name });
    }
  });
  it('retries connection errors that happen before SES got the request', () => {
    expect(classifySesError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).class).toBe('retryable');
  });
  it('does not retry when the request may have reached SES without an answer', () => {
    expect(classifySesError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })).class).toBe('unknown');
    expect(classifySesError(Object.assign(new Error('timed out'), { name: 'TimeoutError' })).class).toBe('unknown');
  });
});
