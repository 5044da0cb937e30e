/**
 * The local SES's durable outbox (local/ses/local-ses.ts): every accepted message is in the file
 * before SendEmail answers; a new instance on the same file knows every accepted send and, on
 * replayOutbox, publishes again byte for byte the events of the recent ones (older ones are left:
 * they were consumed long ago). A line torn by a kill in the middle of a write is skipped.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLocalSes, startLocalSes } from '../../../local/ses';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/dynamodb-local';
import { type LocalSqs, startLocalSqs } from '../../support/local-sqs';

let sqs: LocalSqs;
let topicArn: string;
let eventsQueue: string;
const dir = mkdtempSync(join(tmpdir(), 'ses-outbox-'));
const file = join(dir, 'ses-outbox.jsonl');

beforeAll(async () => {
  sqs = await startLocalSqs();
  topicArn = sqs.server.createTopic('ses-events').topicArn;
  eventsQueue = sqs.createQueue('ses-events-q').url;
  sqs.server.subscribe({ topic: 'ses-events', queue: 'ses-events-q' });
});
afterAll(async () => {
  await sqs.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function drain(): Promise<string[]> {
  const bodies: string[] = [];
  for (let idle = 0; idle < 3; ) {
    const out = await sqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: eventsQueue, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    for (const m of out.Messages ?? []) bodies.push((JSON.parse(m.Body ?? '{}') as { Message: string }).Message);
    if (out.Messages?.length) idle = 0;
    else {
      idle++;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return bodies.sort();
}

async function send(ses: RunningLocalSes, to: string) {
  const client = new SESv2Client({ endpoint: ses.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  try {
    return await client.send(
      new SendEmailCommand({
        FromEmailAddress: 'sender@example.com',
        Destination: { ToAddresses: [to] },
        Content: { Simple: { Subject: { Data: 'Hi' }, Body: { Text: { Data: 'x' } } } },
        ConfigurationSetName: 'mailmeter-test',
        EmailTags: [{ Name: 'job', Value: 'J1' }],
      }),
    );
  } finally {
    client.destroy();
  }
}

describe('local SES outbox', () => {
  it('records every accepted send before answering, knows them after a restart, and replays the recent events exactly', async () => {
    const first = await startLocalSes({ region: LOCAL_REGION, snsEndpoint: sqs.endpoint, topicArn, outboxFile: file, quiet: true });
    const a = await send(first, 'success@simulator.amazonses.com');
    const b = await send(first, 'bounce@simulator.amazonses.com');
    // In the file as soon as SendEmail answered.
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
    await first.flush();
    const published = await drain();
    expect(published).toHaveLength(4); // Send + Delivery, Send + Bounce
    await first.stop();
    // A kill in the middle of a write leaves a torn last line.
    appendFileSync(file, '{"message":{"messageId":"torn');

    const second = await startLocalSes({ region: LOCAL_REGION, snsEndpoint: sqs.endpoint, topicArn, outboxFile: file, quiet: true });
    try {
      expect(second.sent.map((m) => m.messageId)).toEqual([a.MessageId, b.MessageId]);
      expect(second.sent[0]?.at).toBeInstanceOf(Date);
      expect(await second.replayOutbox()).toBe(2);
      // Byte for byte the same records: the ingester's content-derived identity sees duplicates.
      expect(await drain()).toEqual(published);
      // Once per start.
      expect(await second.replayOutbox()).toBe(0);
    } finally {
      await second.stop();
    }
  });

  it('replays only the messages accepted within the window before the newest one', async () => {
    const old = join(dir, 'window.jsonl');
    const entry = (id: string, at: string) =>
      `${JSON.stringify({ message: { messageId: id, at, from: 'a@example.com', to: ['success@simulator.amazonses.com'], cc: [], bcc: [], replyTo: [], subject: 's', tags: {}, region: LOCAL_REGION, recipients: ['success@simulator.amazonses.com'] }, events: [{ eventType: 'Send', mail: { messageId: id } }] })}\n`;
    appendFileSync(old, entry('old', '2026-01-01T00:00:00.000Z') + entry('recent', '2026-01-01T01:00:00.000Z'));
    const ses = await startLocalSes({ region: LOCAL_REGION, snsEndpoint: sqs.endpoint, topicArn, outboxFile: old, replayWindowMs: 15 * 60_000, quiet: true });
    try {
      expect(ses.sent).toHaveLength(2);
      expect(await ses.replayOutbox()).toBe(1);
      expect((await drain()).map((m) => (JSON.parse(m) as { mail: { messageId: string } }).mail.messageId)).toEqual(['recent']);
    } finally {
      await ses.stop();
    }
  });
});
