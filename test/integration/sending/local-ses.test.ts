/**
 * The local SES v2 endpoint, driven by the real SESv2Client: wire format of SendEmail and
 * GetAccount, errors as the SDK models them, the per-second rate limit, and the event records
 * published through SNS (fauxqs) for the mailbox simulator addresses.
 */

import { createHash } from 'node:crypto';
import { GetAccountCommand, SESv2Client, SESv2ServiceException, SendEmailCommand, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLocalSes, startLocalSes } from '../../../local/ses';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/dynamodb-local';
import { type LocalSqs, startLocalSqs } from '../../support/local-sqs';

let sqs: LocalSqs;
let ses: RunningLocalSes;
let client: SESv2Client;
let eventsQueue: string;

beforeAll(async () => {
  sqs = await startLocalSqs();
  const { topicArn } = sqs.server.createTopic('ses-events');
  eventsQueue = sqs.createQueue('ses-events-q').url;
  sqs.server.subscribe({ topic: 'ses-events', queue: 'ses-events-q' });
  ses = await startLocalSes({ region: LOCAL_REGION, snsEndpoint: sqs.endpoint, topicArn, maxSendRate: 5, max24HourSend: 1000 });
  client = new SESv2Client({ endpoint: ses.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await ses.stop();
  await sqs.stop();
});

function email(to: string[], over: Partial<SendEmailCommandInput> = {}): SendEmailCommandInput {
  return {
    FromEmailAddress: 'Sender <sender@example.com>',
    Destination: { ToAddresses: to },
    Content: { Simple: { Subject: { Data: 'Hello' }, Body: { Html: { Data: '<a href="https://example.com/x">x</a>' }, Text: { Data: 'x' } } } },
    ConfigurationSetName: 'mailmeter-test',
    EmailTags: [
      { Name: 'tenant', Value: 'T1' },
      { Name: 'job', Value: 'J1' },
    ],
    ...over,
  };
}

async function drainEvents(expected: number) {
  await ses.flush();
  const events: Record<string, unknown>[] = [];
  for (let i = 0; i < 20 && events.length < expected; i++) {
    const out = await sqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: eventsQueue, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    for (const m of out.Messages ?? []) {
      const envelope = JSON.parse(m.Body ?? '{}') as { Type: string; Message: string };
      expect(envelope.Type).toBe('Notification');
      events.push(JSON.parse(envelope.Message) as Record<string, unknown>);
    }
    if (!out.Messages?.length) await new Promise((r) => setTimeout(r, 50));
  }
  return events;
}

describe('local SES v2', () => {
  it('accepts SendEmail from the real client and publishes the simulator outcomes as SES event records', async () => {
    ses.reset();
    const out = await client.send(
      new SendEmailCommand(email(['success@simulator.amazonses.com', 'bounce@simulator.amazonses.com', 'complaint@simulator.amazonses.com'])),
    );
    expect(out.MessageId).toMatch(/^0100[0-9a-f]{12}-[0-9a-f-]{36}-000000$/);
    expect(ses.sent).toHaveLength(1);
    const events = await drainEvents(4);
    const byType = new Map(events.map((e) => [e.eventType as string, e]));
    expect([...byType.keys()].sort()).toEqual(['Bounce', 'Complaint', 'Delivery', 'Send']);
    const mail = byType.get('Send')?.mail as Record<string, unknown>;
    expect(mail.messageId).toBe(out.MessageId);
    expect(mail.tags).toMatchObject({ 'ses:configuration-set': ['mailmeter-test'], tenant: ['T1'], job: ['J1'], 'ses:from-domain': ['example.com'] });
    expect((byType.get('Delivery')?.delivery as { recipients: string[] }).recipients.sort()).toEqual([
      'complaint@simulator.amazonses.com',
      'success@simulator.amazonses.com',
    ]);
    expect(byType.get('Bounce')?.bounce).toMatchObject({
      bounceType: 'Permanent',
      bounceSubType: 'General',
      bouncedRecipients: [{ emailAddress: 'bounce@simulator.amazonses.com' }],
    });
    expect(byType.get('Complaint')?.complaint).toMatchObject({ complainedRecipients: [{ emailAddress: 'complaint@simulator.amazonses.com' }] });
  });

  it('models suppressionlist@ as a Permanent OnAccountSuppressionList bounce and publishes Open/Click when asked', async () => {
    ses.reset();
    ses.setOptions({ simulateOpens: true, simulateClicks: true });
    await client.send(new SendEmailCommand(email(['suppressionlist@simulator.amazonses.com'])));
    await client.send(new SendEmailCommand(email(['ooto@simulator.amazonses.com'])));
    ses.setOptions({ simulateOpens: false, simulateClicks: false });
    const events = await drainEvents(6);
    const types = events.map((e) => e.eventType).sort();
    expect(types).toEqual(['Bounce', 'Click', 'Delivery', 'Open', 'Send', 'Send']);
    const bounce = events.find((e) => e.eventType === 'Bounce')?.bounce as Record<string, unknown>;
    expect(bounce.bounceSubType).toBe('OnAccountSuppressionList');
    expect((events.find((e) => e.eventType === 'Click')?.click as { link: string }).link).toBe('https://example.com/x');
  });

  it('answers GetAccount with the quota and SentLast24Hours', async () => {
    ses.reset();
    await client.send(new SendEmailCommand(email(['a@example.com', 'b@example.com'])));
    const account = await client.send(new GetAccountCommand({}));
    expect(account.SendQuota).toEqual({ Max24HourSend: 1000, MaxSendRate: 5, SentLast24Hours: 2 });
    expect(account.EnforcementStatus).toBe('HEALTHY');
    expect(account.SendingEnabled).toBe(true);
    expect(account.ProductionAccessEnabled).toBe(true);
    await drainEvents(2);
  });

  it('enforces MaxSendRate per second with 429 TooManyRequestsException', async () => {
    ses.reset();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => client.send(new SendEmailCommand(email(['x@example.com'])))));
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(rejected).toHaveLength(3);
    const err = rejected[0]?.reason as SESv2ServiceException;
    expect(err.name).toBe('TooManyRequestsException');
    expect(err.$metadata.httpStatusCode).toBe(429);
    expect(err.message).toBe('Maximum sending rate exceeded.');
    await new Promise((r) => setTimeout(r, 1050));
    await expect(client.send(new SendEmailCommand(email(['x@example.com'])))).resolves.toHaveProperty('MessageId');
    await drainEvents(12);
  });

  it('answers injected permanent errors and bad addresses as the SDK models them', async () => {
    ses.reset();
    ses.setOptions({ errorFor: { 'rejected@example.com': 'MessageRejected' } });
    await expect(client.send(new SendEmailCommand(email(['rejected@example.com'])))).rejects.toMatchObject({ name: 'MessageRejected' });
    ses.setOptions({ errorFor: {}, failNext: { error: 'SendingPausedException', count: 1 } });
    await expect(client.send(new SendEmailCommand(email(['a@example.com'])))).rejects.toMatchObject({ name: 'SendingPausedException' });
    ses.setOptions({ failNext: { error: 'AccountSuspendedException', count: 1 } });
    await expect(client.send(new SendEmailCommand(email(['a@example.com'])))).rejects.toMatchObject({ name: 'AccountSuspendedException' });
    await expect(client.send(new SendEmailCommand(email(['not-an-address'])))).rejects.toMatchObject({
      name: 'BadRequestException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(ses.sent).toHaveLength(0);
  });

  it('rejects sends past Max24HourSend and injects throttling at the configured ratio', async () => {
    ses.reset();
    ses.setOptions({ max24HourSend: 1, maxSendRate: 0 });
    await client.send(new SendEmailCommand(email(['a@example.com'])));
    await expect(client.send(new SendEmailCommand(email(['a@example.com'])))).rejects.toMatchObject({ name: 'LimitExceededException' });
    ses.setOptions({ max24HourSend: 100_000, throttleRatio: 1 });
    await expect(client.send(new SendEmailCommand(email(['a@example.com'])))).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    ses.setOptions({ throttleRatio: 0, maxSendRate: 5, max24HourSend: 1000 });
    expect(ses.stats.throttled).toBe(1);
    await drainEvents(2);
  });

  it('accepts Content.Simple.Attachments as SES v2 takes them, and refuses what SES refuses', async () => {
    ses.reset();
    const pdf = new Uint8Array([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x10]);
    const withFiles = (Attachments: NonNullable<NonNullable<SendEmailCommandInput['Content']>['Simple']>['Attachments']) =>
      email(['files@example.com'], {
        Content: { Simple: { Subject: { Data: 'Files' }, Body: { Html: { Data: '<img src="cid:logo">' } }, Attachments } },
      });
    await client.send(
      new SendEmailCommand(
        withFiles([
          { FileName: 'logo.png', RawContent: new Uint8Array([1, 2, 3]), ContentDisposition: 'INLINE', ContentId: 'logo', ContentType: 'image/png', ContentTransferEncoding: 'BASE64' },
          { FileName: 'a.pdf', RawContent: pdf },
        ]),
      ),
    );
    expect(ses.sent[0]?.attachments).toEqual([
      { fileName: 'logo.png', contentType: 'image/png', contentDisposition: 'INLINE', contentId: 'logo', contentTransferEncoding: 'BASE64', size: 3, sha256: createHash('sha256').update(new Uint8Array([1, 2, 3])).digest('hex') },
      // SES's defaults: ATTACHMENT, SEVEN_BIT.
      { fileName: 'a.pdf', contentDisposition: 'ATTACHMENT', contentTransferEncoding: 'SEVEN_BIT', size: pdf.length, sha256: createHash('sha256').update(pdf).digest('hex') },
    ]);
    const refused: [Parameters<typeof withFiles>[0], string][] = [
      [[{ FileName: 'invoice.PDF.exe', RawContent: pdf }], 'MessageRejected'],
      [[{ FileName: 'x'.repeat(252) + '.pdf', RawContent: pdf }], 'BadRequestException'],
      [[{ FileName: 'a.pdf', RawContent: pdf, ContentId: 'c'.repeat(79) }], 'BadRequestException'],
      [[{ FileName: 'a.pdf', RawContent: pdf, ContentDisposition: 'SIDEWAYS' as never }], 'BadRequestException'],
    ];
    for (const [files, name] of refused) {
      await expect(client.send(new SendEmailCommand(withFiles(files)))).rejects.toMatchObject({ name, $metadata: { httpStatusCode: 400 } });
    }
    expect(ses.sent).toHaveLength(1);
    await drainEvents(2);
  });
});
