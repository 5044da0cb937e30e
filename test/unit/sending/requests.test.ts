import { describe, expect, it } from 'vitest';
import { parseWith } from '../../../shared/adapters/http/http-handler';
import { BulkEmailRequest as bulkEmailSchema, SendEmailRequest as singleEmailSchema } from '../../../shared/contract/sending';
import { isAddress, isMailbox } from '../../../shared/rules/addresses';
import { PayloadTooLargeError, ValidationError } from '../../../shared/rules/errors';
import {
  checkContentChoice,
  checkContentSize,
  checkRecipientCount,
  checkTags,
  checkVariables,
  MAX_CONTENT_BYTES,
} from '../../../shared/use-cases/sending/requests';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.field;
    throw err;
  }
  return undefined;
}

describe('addresses', () => {
  it('accepts ordinary and simulator addresses and refuses malformed ones', () => {
    expect(isAddress('a.b+tag@example.co.uk')).toBe(true);
    expect(isAddress('success@simulator.amazonses.com')).toBe(true);
    for (const bad of ['plain', 'a@b', 'a b@example.com', '<a@example.com>', 'a@@example.com', 'a..b@example.com', 'a@-x.com']) {
      expect(isAddress(bad)).toBe(false);
    }
  });
  it('accepts a display name on From', () => {
    expect(isMailbox('Acme Support <support@acme.com>')).toBe(true);
    expect(isMailbox('"Acme, Inc." <support@acme.com>')).toBe(true);
    expect(isMailbox('Acme <not an address>')).toBe(false);
  });
});

describe('POST /v1/emails body', () => {
  const base = { from: 'a@example.com', to: ['b@example.com'], subject: 'Hi', text: 'x' };
  it('names an unknown field', () => {
    expect(fieldOf(() => parseWith(singleEmailSchema, { ...base, bogus: 1 }))).toBe('bogus');
  });
  it('names a bad address by its position', () => {
    expect(fieldOf(() => parseWith(singleEmailSchema, { ...base, cc: ['ok@example.com', 'nope'] }))).toBe('cc.1');
  });
  it('allows at most 50 recipients across to, cc and bcc', () => {
    const many = (n: number, p: string) => Array.from({ length: n }, (_, i) => `${p}${i}@example.com`);
    const ok = parseWith(singleEmailSchema, { ...base, to: many(20, 't'), cc: many(20, 'c'), bcc: many(10, 'b') });
    expect(() => checkRecipientCount(ok)).not.toThrow();
    const tooMany = parseWith(singleEmailSchema, { ...base, to: many(20, 't'), cc: many(20, 'c'), bcc: many(11, 'b') });
    expect(fieldOf(() => checkRecipientCount(tooMany))).toBe('to');
  });
  it('wants content or a template, not both, and a body with content', () => {
    expect(fieldOf(() => checkContentChoice({ templateId: 'T', subject: 'x' }))).toBe('subject');
    expect(fieldOf(() => checkContentChoice({ subject: 'x' }))).toBe('html');
    expect(fieldOf(() => checkContentChoice({ html: '<p/>' }))).toBe('subject');
    expect(() => checkContentChoice({ templateId: 'T' })).not.toThrow();
  });
  it('refuses content larger than a job item can hold with 413', () => {
    expect(() => checkContentSize({ subject: 's', html: 'x'.repeat(MAX_CONTENT_BYTES) })).toThrow(PayloadTooLargeError);
  });
  it('keeps tenant, job and template tags for Mailmeter and SES tag characters only', () => {
    expect(fieldOf(() => checkTags({ job: 'x' }))).toBe('tags.job');
    expect(fieldOf(() => parseWith(singleEmailSchema, { ...base, tags: { campaign: 'spring sale' } }))).toBe('tags.campaign');
    expect(() => checkTags({ campaign: 'spring-sale' })).not.toThrow();
  });
  it('names a variable the content uses but the request does not give', () => {
    expect(fieldOf(() => checkVariables(['name', 'code'], { name: 'x' }, 'recipients.3.variables'))).toBe('recipients.3.variables.code');
    expect(() => checkVariables(['name'], { name: 'x', extra: 1 }, 'variables')).not.toThrow();
  });
});

describe('POST /v1/emails/bulk body', () => {
  const recipients = (n: number) => Array.from({ length: n }, (_, i) => ({ to: `r${i}@example.com`, variables: { name: `R${i}` } }));
  it('accepts 10,000 recipients and refuses 10,001', () => {
    expect(parseWith(bulkEmailSchema, { from: 'a@example.com', templateId: 'T1', recipients: recipients(10_000) }).recipients).toHaveLength(10_000);
    expect(fieldOf(() => parseWith(bulkEmailSchema, { from: 'a@example.com', templateId: 'T1', recipients: recipients(10_001) }))).toBe('recipients');
  });
  it('names an unknown field inside a recipient', () => {
    expect(fieldOf(() => parseWith(bulkEmailSchema, { from: 'a@example.com', templateId: 'T1', recipients: [{ to: 'a@example.com', name: 'x' }] }))).toBe(
      'recipients.0.name',
    );
  });
  it('refuses an empty recipient list and a bad priority', () => {
    expect(fieldOf(() => parseWith(bulkEmailSchema, { from: 'a@example.com', templateId: 'T1', recipients: [] }))).toBe('recipients');
    expect(fieldOf(() => parseWith(bulkEmailSchema, { from: 'a@example.com', templateId: 'T1', recipients: recipients(1), priority: 'urgent' }))).toBe(
      'priority',
    );
  });
});
