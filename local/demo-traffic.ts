/**
 * `npm start -- --demo`: a steady, realistic stream of traffic through the public API as the
 * demo tenant — single sends and bulk jobs to the SES mailbox simulator (mostly deliveries,
 * some bounces, complaints, out-of-office and suppressed addresses), and, a little later, opens
 * and clicks for some of the delivered messages, published to the events topic the way SES
 * publishes them. Everything goes through the same path as real traffic.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { RunningLocalSes, SentMessage } from './ses';
import { clickRecord, openRecord } from './ses/event-records';
import type { StackInfo } from './stack-info';

const FROM = 'Mailmeter Demo <demo@example.com>';

/** Simulator outcomes, weighted roughly like a healthy list (deliveries dominate). */
const OUTCOMES: [string, number][] = [
  ['success', 86],
  ['bounce', 5],
  ['ooto', 4],
  ['complaint', 2],
  ['suppressionlist', 3],
];

function pickOutcome(random: () => number): string {
  let r = random() * OUTCOMES.reduce((s, [, w]) => s + w, 0);
  for (const [name, w] of OUTCOMES) {
    r -= w;
    if (r < 0) return name;
  }
  return 'success';
}

let counter = 0;
export function simulatorAddress(outcome: string): string {
  counter += 1;
  return `${outcome}+demo${counter}@simulator.amazonses.com`;
}

export interface DemoTraffic {
  stop(): Promise<void>;
}

export function startDemoTraffic(opts: {
  info: StackInfo;
  ses: RunningLocalSes;
  log: (line: string) => void;
  /** Milliseconds between single sends (default 2,000); bulk jobs every 12 singles. */
  intervalMs?: number;
  random?: () => number;
}): DemoTraffic {
  const random = opts.random ?? Math.random;
  const intervalMs = opts.intervalMs ?? 2_000;
  const headers = { authorization: `Bearer ${opts.info.demoTenant.apiKey}`, 'content-type': 'application/json' };
  const sns = new SNSClient({ endpoint: opts.info.sns.endpoint, region: opts.info.region, credentials: opts.info.credentials });
  const reported = new Set<string>();
  const report = (what: string, detail: string) => {
    // One line per kind of failure, so a broken part does not flood the console.
    if (reported.has(what)) return;
    reported.add(what);
    opts.log(`[demo] ${what}: ${detail}`);
  };
  let templateId: string | undefined;
  let tick = 0;
  let engagedUpTo = opts.ses.sent.length;
  let busy = false;

  async function post(path: string, body: unknown): Promise<Record<string, unknown> | undefined> {
    const res = await fetch(`${opts.info.apiUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    const json = (await res.json().catch(() => undefined)) as { data?: Record<string, unknown> } | undefined;
    if (!res.ok) {
      report(`POST ${path} → ${res.status}`, JSON.stringify(json));
      return undefined;
    }
    return json?.data;
  }

  async function ensureTemplate() {
    if (templateId) return;
    const res = await fetch(`${opts.info.apiUrl}/v1/templates`, { headers });
    const list = (await res.json().catch(() => undefined)) as { data?: unknown } | undefined;
    const items = (Array.isArray(list?.data) ? list.data : ((list?.data as { templates?: unknown[] })?.templates ?? [])) as {
      id?: string;
      name?: string;
    }[];
    templateId = items.find((t) => t.name === 'Demo weekly digest')?.id;
    if (templateId) return;
    const created = await post('/v1/templates', {
      name: 'Demo weekly digest',
      subject: 'Your week, {{name}}',
      html: '<p>Hello {{name}},</p><p>Here is <a href="https://example.com/digest">your weekly digest</a>.</p>',
      text: 'Hello {{name}}, here is your weekly digest: https://example.com/digest',
    });
    templateId = typeof created?.id === 'string' ? created.id : undefined;
  }

  async function sendSingle() {
    const outcome = pickOutcome(random);
    const accepted = await post('/v1/emails', {
      from: FROM,
      to: [simulatorAddress(outcome)],
      subject: 'Your receipt',
      html: '<p>Thanks for your order. <a href="https://example.com/orders">View it</a>.</p>',
      text: 'Thanks for your order: https://example.com/orders',
      tags: { campaign: 'receipts' },
      priority: random() < 0.2 ? 'high' : 'normal',
    });
    if (accepted) sent.singles += 1;
  }

  async function sendBulk() {
    await ensureTemplate();
    const n = 5 + Math.floor(random() * 20);
    const recipients = Array.from({ length: n }, (_, i) => ({ to: simulatorAddress(pickOutcome(random)), variables: { name: `Reader ${i + 1}` } }));
    const content = templateId
      ? { templateId }
      : { subject: 'Your week', html: '<p>Here is <a href="https://example.com/digest">your weekly digest</a>.</p>' };
    const job = await post('/v1/emails/bulk', { from: FROM, ...content, recipients, priority: random() < 0.5 ? 'low' : 'normal' });
    if (job) {
      sent.bulkJobs += 1;
      sent.bulkRecipients += n;
    }
  }

  /** Opens for about 40 % and clicks for about 12 % of the messages accepted since the last tick. */
  async function engage() {
    const fresh: SentMessage[] = opts.ses.sent.slice(engagedUpTo);
    engagedUpTo = opts.ses.sent.length;
    for (const m of fresh) {
      const delivered = m.recipients.some((r) => !/^(bounce|suppressionlist)\b/.test(r));
      if (!delivered) continue;
      const events = [];
      if (random() < 0.4) events.push(openRecord(m));
      if (random() < 0.12) events.push(clickRecord(m, 'https://example.com/digest'));
      for (const e of events) {
        await sns.send(new PublishCommand({ TopicArn: opts.info.sns.eventsTopicArn, Message: JSON.stringify(e) }));
        sent.engagements += 1;
      }
    }
  }

  const sent = { singles: 0, bulkJobs: 0, bulkRecipients: 0, engagements: 0 };
  const summary = setInterval(() => {
    opts.log(
      `[demo] so far: ${sent.singles} single emails, ${sent.bulkJobs} bulk jobs (${sent.bulkRecipients} recipients), ` +
        `${sent.engagements} opens and clicks`,
    );
  }, 60_000);
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    tick += 1;
    const work = async () => {
      await sendSingle();
      if (tick % 12 === 1) await sendBulk();
      if (tick % 3 === 0) await engage();
    };
    work()
      .catch((err) => report('demo traffic', (err as Error).message))
      .finally(() => {
        busy = false;
      });
  }, intervalMs);
  opts.log(`• Demo traffic: a single send every ${intervalMs / 1000} s, a bulk job every ${(12 * intervalMs) / 1000} s, opens and clicks`);

  return {
    async stop() {
      clearInterval(timer);
      clearInterval(summary);
      while (busy) await new Promise((r) => setTimeout(r, 50));
      sns.destroy();
    },
  };
}
