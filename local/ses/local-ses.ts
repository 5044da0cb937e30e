/**
 * A local Amazon SES v2 endpoint: speaks the REST-JSON wire protocol of SendEmail
 * (POST /v2/email/outbound-emails) and GetAccount (GET /v2/email/account), so production code
 * uses `new SESv2Client({ endpoint })` unchanged. Every accepted email becomes the event records
 * SES would publish through a configuration set's SNS event destination (mailbox simulator
 * outcomes), published with the real SNS client to `topicArn` (fauxqs locally).
 *
 * It also keeps the account's email identities and SES tenants (registry.ts): CreateEmailIdentity,
 * GetEmailIdentity, ListEmailIdentities, DeleteEmailIdentity, PutEmailIdentityMailFromAttributes,
 * CreateTenant, GetTenant, ListTenants, DeleteTenant, Create/DeleteTenantResourceAssociation,
 * ListTenantResources, ListResourceTenants, UpdateReputationEntityPolicy,
 * UpdateReputationEntityCustomerManagedStatus and GetReputationEntity (for tenants: the only
 * reputation entities it keeps), at the paths of the SDK's operation schemas. A tenant's
 * sending-status change is announced as the EventBridge event SES sends (`onSendingStatusEvent`). Local
 * identities verify by themselves after `identityVerificationDelayMs`. With
 * `requireVerifiedIdentities`, SendEmail refuses an unverified sender as SES does; with a
 * `TenantName`, it refuses an unknown tenant, resources not associated with the tenant and a
 * DISABLED tenant.
 *
 * Errors and where their wording comes from:
 * - MessageRejected 400 "Email address is not verified. The following identities failed the check
 *   in region <REGION>: <address>" — the SES developer guide, "Amazon SES email sending errors".
 * - SendEmail with an unknown TenantName: NotFoundException 404 "Tenant <name> for AwsAccountId
 *   <account> not found."; resources not associated: AccessDeniedException 403 "Tenant not associated
 *   with resources [<arn>, ...]." (not in the SDK's model, so the client raises a plain
 *   SESv2ServiceException named AccessDeniedException); tenant-management misses: NotFoundException
 *   "The requested tenant <name> does not exist." — as observed against SES and recorded by other
 *   emulators' tests (public sources, not AWS documentation).
 * - A DISABLED tenant: SendingPausedException 400 (a modelled SendEmail error; the wording is ours,
 *   SES's own is not published).
 *
 * Knobs for tests and the bench: a true per-second MaxSendRate (any 1,000 ms window holds at
 * most `maxSendRate` accepted sends, otherwise 429 TooManyRequestsException "Maximum sending
 * rate exceeded."), Max24HourSend, a throttling-injection ratio, 5xx injection, injected
 * permanent errors, and `sent`: every accepted message, to detect duplicates and losses.
 *
 * Durability (`outboxFile`, the local stack's data folder): SES keeps what it accepted, but this
 * process holds it in memory, and fauxqs holds the published events in memory too. So every
 * accepted message is appended, with the exact event records it publishes, to an append-only
 * JSONL outbox before SendEmail answers and before anything is published. On start the outbox
 * is read back into `sent` (the record of accepted sends survives a restart: the chaos test's
 * ground truth) and the events of the messages accepted in the last `replayWindowMs` before the
 * newest entry are published again: those may still have been in a queue when the process died.
 * A second copy of an event that had been consumed is harmless: the ingester's dedupe identity
 * is derived from the event's content, and the replayed record is byte for byte the first one.
 * appendFileSync reaches the kernel before the answer leaves: a kill -9 loses nothing; a power
 * cut (no fsync) may.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { parseAttachments } from './attachments';
import { SesError } from './errors';
import { type AcceptedMessage, bareAddress, LOCAL_ACCOUNT_ID, type SesEventRecord, simulatedEvents } from './event-records';
import { createRegistry, type IdentityStatus, type LocalSesState, type StoredTenant, type TenantSendingStatus } from './registry';

export type InjectedError =
  | 'MessageRejected'
  | 'SendingPausedException'
  | 'AccountSuspendedException'
  | 'BadRequestException'
  | 'TooManyRequestsException'
  | 'InternalFailure';

export interface LocalSesOptions {
  /** Sends accepted in any 1,000 ms window; 0 or undefined = unlimited. */
  maxSendRate?: number;
  /** Recipients accepted in any 24 h; answered by GetAccount. */
  max24HourSend?: number;
  /** Added to SentLast24Hours (to start a test near the daily quota). */
  sentLast24HoursOffset?: number;
  /** Share of SendEmail calls answered 429 at random, before any other check (0..1). */
  throttleRatio?: number;
  /** Share of SendEmail calls answered 500 InternalFailure at random (0..1). */
  serverErrorRatio?: number;
  /** Permanent error answered for messages to these recipients (bare address, lower case). */
  errorFor?: Record<string, InjectedError>;
  /** The next N SendEmail calls answer this error (then the option clears itself). */
  failNext?: { error: InjectedError; count: number };
  /** Account state, as GetAccount reports it and SendEmail enforces it. */
  sendingEnabled?: boolean;
  enforcementStatus?: 'HEALTHY' | 'PROBATION' | 'SHUTDOWN';
  productionAccessEnabled?: boolean;
  /** Publish simulated Open / Click events for delivered messages. */
  simulateOpens?: boolean;
  simulateClicks?: boolean;
  /** Added latency of each SendEmail answer, ms (models SES's round trip). */
  latencyMs?: number;
  /** Configuration set applied when a request names none (SES's default configuration set). */
  defaultConfigurationSet?: string;
  /** How long a new identity stays PENDING before it verifies by itself (ms; default 2000). */
  identityVerificationDelayMs?: number;
  /**
   * Refuse SendEmail from a sender that is not verified (400 MessageRejected), as SES does.
   * Off by default so callers that never create identities keep working.
   */
  requireVerifiedIdentities?: boolean;
  /**
   * Identities that exist and are verified from the start (domains or addresses), e.g.
   * ['example.com']. They are real identities: GetEmailIdentity shows them and CreateEmailIdentity
   * on one answers AlreadyExistsException.
   */
  verifiedIdentities?: string[];
}

export interface StartLocalSesOptions extends LocalSesOptions {
  port?: number;
  host?: string;
  region: string;
  /** SNS endpoint (fauxqs) and topic of the configuration set's event destination. */
  snsEndpoint?: string;
  topicArn?: string;
  /** No console output for publish failures. */
  quiet?: boolean;
  /** Identities, tenants and associations to start with (a snapshot from `exportState`). */
  state?: LocalSesState;
  /** Called with a fresh snapshot after every change to identities, tenants or associations. */
  onStateChange?: (state: LocalSesState) => void;
  /** Clock of the identity verification delay (epoch ms); tests may inject one. */
  clock?: () => number;
  /**
   * Receives the EventBridge event SES sends when a tenant's sending status changes
   * (`setTenantSendingStatus`), in the documented shape ("Sending Status Disabled" / "Enabled").
   */
  onSendingStatusEvent?: (event: SendingStatusEvent) => void | Promise<void>;
  /** Append-only JSONL record of every accepted message and its events (see the module comment). */
  outboxFile?: string;
  /** On start, events of messages accepted this long before the newest outbox entry are published again (ms, default 15 min). */
  replayWindowMs?: number;
}

/** One outbox line: the accepted message and the event records published for it. */
interface OutboxEntry {
  message: Omit<SentMessage, 'at'> & { at: string };
  events: SesEventRecord[];
}

export const DEFAULT_REPLAY_WINDOW_MS = 15 * 60_000;

export interface SentMessage extends AcceptedMessage {
  recipients: string[];
  /** The TenantName the message was sent through, if any. */
  tenantName?: string;
}

/** SES's EventBridge event for a tenant's sending-status change (SES developer guide, "Tenants"). */
export interface SendingStatusEvent {
  version: '0';
  id: string;
  'detail-type': 'Sending Status Disabled' | 'Sending Status Enabled';
  source: 'aws.ses';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    version: '1.0.0';
    data: {
      origin: 'AWS_MANAGED' | 'CUSTOMER_MANAGED';
      record: { status: TenantSendingStatus; cause: string; lastUpdatedTimestamp: number[] };
    };
  };
}

/** [year, month, day, hour, minute, second, nanoseconds], UTC: how the event writes lastUpdatedTimestamp. */
function timestampParts(ms: number): number[] {
  const d = new Date(ms);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds() * 1_000_000];
}

export interface LocalSesStats {
  requests: number;
  accepted: number;
  throttled: number;
  injectedErrors: number;
  published: number;
  publishErrors: number;
}

export interface RunningLocalSes {
  endpoint: string;
  port: number;
  /** Every accepted message, in order. */
  sent: SentMessage[];
  stats: LocalSesStats;
  setOptions(options: Partial<LocalSesOptions>): void;
  /** Forget sent messages, counters and the rate window (keeps options). */
  reset(): void;
  /** Waits until every event has been published to SNS. */
  flush(): Promise<void>;
  /**
   * Publishes again the outbox's events of the last `replayWindowMs` (call once the topic and
   * its subscribers exist); returns how many messages' events were published again.
   */
  replayOutbox(): Promise<number>;
  /** A JSON snapshot of identities, tenants and associations (not of sent mail or counters). */
  exportState(): LocalSesState;
  /** Replaces identities, tenants and associations with a snapshot. */
  importState(state: LocalSesState): void;
  /** Forces an identity's verification status (`undefined` goes back to the delay). */
  setIdentityStatus(identity: string, status: IdentityStatus | undefined): void;
  /**
   * Sets a tenant's SendingStatus, as SES's reputation management (`AWS_MANAGED`, the default) or
   * an UpdateReputationEntityCustomerManagedStatus call (`CUSTOMER_MANAGED`) would, and answers the
   * EventBridge event SES sends for it (also handed to `onSendingStatusEvent`).
   */
  setTenantSendingStatus(tenantName: string, status: TenantSendingStatus, opts?: { cause?: string; origin?: 'AWS_MANAGED' | 'CUSTOMER_MANAGED' }): Promise<SendingStatusEvent>;
  stop(): Promise<void>;
}

const SESSION_HEADERS = { 'content-type': 'application/json', 'x-amzn-requestid': '' };

const INJECTED: Record<InjectedError, { status: number; message: string }> = {
  MessageRejected: { status: 400, message: 'Email address is not verified. The following identities failed the check in region local: local' },
  SendingPausedException: { status: 400, message: 'Sending is paused for this account.' },
  AccountSuspendedException: { status: 400, message: 'The account has been suspended.' },
  BadRequestException: { status: 400, message: "Missing final '@domain'" },
  TooManyRequestsException: { status: 429, message: 'Maximum sending rate exceeded.' },
  InternalFailure: { status: 500, message: 'An internal error occurred.' },
};

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const TAG_CHARS = /^[A-Za-z0-9_-]{1,256}$/;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function messageId(): string {
  const hex = Date.now().toString(16).padStart(12, '0');
  return `0100${hex}-${randomUUID()}-000000`;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export async function startLocalSes(start: StartLocalSesOptions): Promise<RunningLocalSes> {
  let options: LocalSesOptions = { sendingEnabled: true, enforcementStatus: 'HEALTHY', productionAccessEnabled: true, ...start };
  const registry = createRegistry({
    region: start.region,
    now: start.clock ?? Date.now,
    verificationDelayMs: () => options.identityVerificationDelayMs ?? 2000,
    onChange: start.onStateChange ? () => start.onStateChange?.(registry.exportState()) : undefined,
  });
  if (start.state) registry.importState(start.state);
  registry.ensureVerified(options.verifiedIdentities ?? []);
  const sent: SentMessage[] = [];
  const stats: LocalSesStats = { requests: 0, accepted: 0, throttled: 0, injectedErrors: 0, published: 0, publishErrors: 0 };
  /** Accept times (ms) within the last second, for the rate window. */
  let recentAccepts: number[] = [];
  /** [time, recipients] of accepts within the last 24 h. */
  let dayAccepts: [number, number][] = [];
  const pending = new Set<Promise<void>>();
  const sns =
    start.snsEndpoint && start.topicArn
      ? new SNSClient({
          endpoint: start.snsEndpoint,
          region: start.region,
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        })
      : undefined;

  function sentLast24Hours(now: number): number {
    dayAccepts = dayAccepts.filter(([t]) => t > now - 86_400_000);
    return dayAccepts.reduce((s, [, n]) => s + n, 0) + (options.sentLast24HoursOffset ?? 0);
  }

  // The outbox read back: accepted sends survive a restart (replayed later, by replayOutbox).
  const recovered: OutboxEntry[] = [];
  if (start.outboxFile && existsSync(start.outboxFile)) {
    for (const line of readFileSync(start.outboxFile, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        recovered.push(JSON.parse(line) as OutboxEntry);
      } catch {
        // A line torn by a kill in the middle of a write: its SendEmail never answered, so the
        // sender did not count it as accepted either (it settles it from its claim).
      }
    }
    for (const e of recovered) {
      const at = new Date(e.message.at);
      sent.push({ ...e.message, at });
      dayAccepts.push([at.getTime(), e.message.recipients.length]);
    }
  }

  function eventsOf(m: AcceptedMessage): SesEventRecord[] {
    // SES publishes events only through a configuration set.
    if (!m.configurationSetName) return [];
    return simulatedEvents(m, { opens: options.simulateOpens, clicks: options.simulateClicks });
  }

  function publish(events: SesEventRecord[]) {
    if (!sns || !start.topicArn || !events.length) return;
    const p = (async () => {
      for (const event of events) {
        try {
          await sns.send(new PublishCommand({ TopicArn: start.topicArn, Message: JSON.stringify(event) }));
          stats.published++;
        } catch (err) {
          stats.publishErrors++;
          if (!start.quiet) console.error(`local SES: publishing ${event.eventType} failed: ${String(err)}`);
        }
      }
    })();
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }

  function injected(error: InjectedError): SesError {
    stats.injectedErrors++;
    if (error === 'TooManyRequestsException') stats.throttled++;
    const e = INJECTED[error];
    return new SesError(error, e.status, e.message);
  }

  function sendEmail(body: Record<string, unknown>): { MessageId: string } {
    const now = Date.now();
    if (options.throttleRatio && Math.random() < options.throttleRatio) throw injected('TooManyRequestsException');
    if (options.serverErrorRatio && Math.random() < options.serverErrorRatio) throw injected('InternalFailure');
    if (options.failNext && options.failNext.count > 0) {
      const error = options.failNext.error;
      options.failNext = options.failNext.count > 1 ? { error, count: options.failNext.count - 1 } : undefined;
      throw injected(error);
    }
    if (options.enforcementStatus === 'SHUTDOWN') throw injected('AccountSuspendedException');
    if (options.sendingEnabled === false) throw injected('SendingPausedException');

    const from = typeof body.FromEmailAddress === 'string' ? body.FromEmailAddress : '';
    const dest = (body.Destination ?? {}) as Record<string, unknown>;
    const to = strings(dest.ToAddresses);
    const cc = strings(dest.CcAddresses);
    const bcc = strings(dest.BccAddresses);
    const recipients = [...to, ...cc, ...bcc];
    if (!from) throw new SesError('BadRequestException', 400, 'FromEmailAddress is required');
    if (recipients.length === 0) throw new SesError('BadRequestException', 400, 'Destination has no recipients');
    if (recipients.length > 50) throw new SesError('MessageRejected', 400, 'Recipient count exceeds 50.');
    for (const r of [from, ...recipients]) {
      if (!ADDRESS.test(bareAddress(r))) throw new SesError('BadRequestException', 400, `Missing final '@domain': ${r}`);
    }
    const simple = ((body.Content ?? {}) as Record<string, unknown>).Simple as Record<string, unknown> | undefined;
    if (!simple) throw new SesError('BadRequestException', 400, 'the local SES supports Content.Simple only');
    const subject = String(((simple.Subject ?? {}) as Record<string, unknown>).Data ?? '');
    const bodyPart = (simple.Body ?? {}) as Record<string, Record<string, unknown> | undefined>;
    const html = typeof bodyPart.Html?.Data === 'string' ? bodyPart.Html.Data : undefined;
    const text = typeof bodyPart.Text?.Data === 'string' ? bodyPart.Text.Data : undefined;
    if (!subject) throw new SesError('BadRequestException', 400, 'Subject is required');
    if (html === undefined && text === undefined) throw new SesError('BadRequestException', 400, 'Body is required');
    const attachments = parseAttachments(simple.Attachments, Buffer.byteLength(subject) + Buffer.byteLength(html ?? '') + Buffer.byteLength(text ?? ''));
    const tags: Record<string, string> = {};
    for (const t of (body.EmailTags ?? []) as { Name?: unknown; Value?: unknown }[]) {
      const name = String(t.Name ?? '');
      const value = String(t.Value ?? '');
      if (!TAG_CHARS.test(name) || !TAG_CHARS.test(value)) {
        throw new SesError('BadRequestException', 400, `Invalid tag: ${name}=${value}; tags may contain only A-Z, a-z, 0-9, _ and -`);
      }
      tags[name] = value;
    }
    const configurationSetName =
      typeof body.ConfigurationSetName === 'string' ? body.ConfigurationSetName : options.defaultConfigurationSet;
    const identity = registry.resolveIdentity(from);
    const tenantName = typeof body.TenantName === 'string' ? body.TenantName : undefined;
    if (tenantName !== undefined) {
      const tenant = registry.findTenant(tenantName);
      if (!tenant) throw new SesError('NotFoundException', 404, `Tenant ${tenantName} for AwsAccountId ${LOCAL_ACCOUNT_ID} not found.`);
      // Every resource the send uses must be associated with the tenant: the From identity and
      // the configuration set in effect (the request's, else the identity's default, else the account's).
      const bare = bareAddress(from);
      const used = [registry.identityArn(identity?.name ?? bare.slice(bare.lastIndexOf('@') + 1))];
      const setInEffect = typeof body.ConfigurationSetName === 'string' ? body.ConfigurationSetName : (identity?.configurationSetName ?? options.defaultConfigurationSet);
      if (setInEffect) used.push(registry.configurationSetArn(setInEffect));
      const missing = registry.unassociated(tenant, used);
      if (missing.length) throw new SesError('AccessDeniedException', 403, `Tenant not associated with resources [${missing.join(', ')}].`);
      if (tenant.sendingStatus === 'DISABLED') throw new SesError('SendingPausedException', 400, `Sending is paused for tenant ${tenantName}.`);
    }
    if (options.requireVerifiedIdentities && !registry.isVerifiedSender(from)) {
      const address = (/<([^>]+)>\s*$/.exec(from)?.[1] ?? from).trim();
      throw new SesError(
        'MessageRejected',
        400,
        `Email address is not verified. The following identities failed the check in region ${start.region.toUpperCase()}: ${address}`,
      );
    }
    for (const r of recipients) {
      const err = options.errorFor?.[bareAddress(r)];
      if (err) throw injected(err);
    }

    // The rate window: a true per-second limit, checked after validation as SES does.
    recentAccepts = recentAccepts.filter((t) => t > now - 1000);
    if (options.maxSendRate && recentAccepts.length >= options.maxSendRate) {
      stats.throttled++;
      throw new SesError('TooManyRequestsException', 429, 'Maximum sending rate exceeded.');
    }
    if (options.max24HourSend !== undefined && options.max24HourSend >= 0) {
      if (sentLast24Hours(now) + recipients.length > options.max24HourSend) {
        throw new SesError('LimitExceededException', 400, 'Daily message quota exceeded.');
      }
    }
    recentAccepts.push(now);
    dayAccepts.push([now, recipients.length]);
    const m: SentMessage = {
      messageId: messageId(),
      at: new Date(now),
      from,
      to,
      cc,
      bcc,
      replyTo: strings(body.ReplyToAddresses),
      subject,
      html,
      text,
      tags,
      configurationSetName,
      region: start.region,
      sourceArn: identity ? registry.identityArn(identity.name) : undefined,
      recipients: recipients.map(bareAddress),
      ...(tenantName !== undefined ? { tenantName } : {}),
      ...(attachments.length ? { attachments } : {}),
    };
    const events = eventsOf(m);
    if (start.outboxFile) {
      const entry: OutboxEntry = { message: { ...m, at: m.at.toISOString() }, events };
      appendFileSync(start.outboxFile, `${JSON.stringify(entry)}\n`);
    }
    sent.push(m);
    stats.accepted++;
    publish(events);
    return { MessageId: m.messageId };
  }

  /** The EventBridge event SES sends for a tenant's sending-status change, handed to onSendingStatusEvent. */
  async function announceStatus(t: StoredTenant, opts: { cause?: string; origin?: 'AWS_MANAGED' | 'CUSTOMER_MANAGED' }): Promise<SendingStatusEvent> {
    const status = t.sendingStatus;
    const at = t.statusChangedAt ?? Date.now();
    const event: SendingStatusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': status === 'DISABLED' ? 'Sending Status Disabled' : 'Sending Status Enabled',
      source: 'aws.ses',
      account: LOCAL_ACCOUNT_ID,
      time: new Date(Math.floor(at / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      region: start.region,
      resources: [t.arn],
      detail: {
        version: '1.0.0',
        data: {
          origin: opts.origin ?? 'AWS_MANAGED',
          record: { status, cause: opts.cause ?? (opts.origin === 'CUSTOMER_MANAGED' ? 'Status manually updated.' : 'Reputation finding.'), lastUpdatedTimestamp: timestampParts(at) },
        },
      },
    };
    await start.onSendingStatusEvent?.(event);
    return event;
  }

  function getAccount() {
    const max24 = options.max24HourSend ?? 200;
    return {
      DedicatedIpAutoWarmupEnabled: false,
      EnforcementStatus: options.enforcementStatus ?? 'HEALTHY',
      ProductionAccessEnabled: options.productionAccessEnabled ?? true,
      SendQuota: {
        Max24HourSend: max24,
        MaxSendRate: options.maxSendRate ?? 1,
        SentLast24Hours: sentLast24Hours(Date.now()),
      },
      SendingEnabled: options.sendingEnabled ?? true,
      SuppressionAttributes: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
    };
  }

  /** Method and path of each operation, as the SDK's operation schemas (`{ [_h]: [method, path] }`) give them. */
  function route(method: string, path: string, body: Record<string, unknown>): unknown {
    const identityPath = /^\/v2\/email\/identities\/([^/]+)(\/mail-from)?$/.exec(path);
    if (identityPath) {
      const name = decodeURIComponent(identityPath[1] ?? '');
      if (identityPath[2] && method === 'PUT') return registry.putMailFrom(name, body);
      if (!identityPath[2] && method === 'GET') return registry.getEmailIdentity(name);
      if (!identityPath[2] && method === 'DELETE') return registry.deleteEmailIdentity(name);
    }
    const reputation = /^\/v2\/email\/reputation\/entities\/([^/]+)\/([^/]+)(\/policy|\/customer-managed-status)?$/.exec(path);
    if (reputation) {
      const type = decodeURIComponent(reputation[1] ?? '');
      const reference = decodeURIComponent(reputation[2] ?? '');
      if (reputation[3] === '/policy' && method === 'PUT') return registry.updateReputationEntityPolicy(type, reference, body);
      if (reputation[3] === '/customer-managed-status' && method === 'PUT') {
        const t = registry.updateCustomerManagedStatus(type, reference, body);
        // SES sends its EventBridge event after answering.
        void announceStatus(t, { origin: 'CUSTOMER_MANAGED' }).catch((err: unknown) => {
          if (!start.quiet) console.error(`local SES: sending-status event failed: ${String(err)}`);
        });
        return {};
      }
      if (!reputation[3] && method === 'GET') return registry.getReputationEntity(type, reference);
    }
    const key = `${method} ${path}`;
    switch (key) {
      case 'POST /v2/email/outbound-emails':
        return sendEmail(body);
      case 'GET /v2/email/account':
        return getAccount();
      case 'POST /v2/email/identities':
        return registry.createEmailIdentity(body);
      case 'POST /v2/email/list-identities': // the current SDK
      case 'GET /v2/email/identities': // older SDKs
        return registry.listEmailIdentities();
      case 'POST /v2/email/tenants':
        return registry.createTenant(body);
      case 'POST /v2/email/tenants/get':
        return registry.getTenant(body);
      case 'POST /v2/email/tenants/list':
        return registry.listTenants();
      case 'POST /v2/email/tenants/delete':
        return registry.deleteTenant(body);
      case 'POST /v2/email/tenants/resources':
        return registry.associate(body);
      case 'POST /v2/email/tenants/resources/delete':
        return registry.disassociate(body);
      case 'POST /v2/email/tenants/resources/list':
        return registry.listTenantResources(body);
      case 'POST /v2/email/resources/tenants/list':
        return registry.listResourceTenants(body);
    }
    throw new SesError('NotFoundException', 404, `the local SES does not implement ${method} ${path}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    stats.requests++;
    const requestId = randomUUID();
    const reply = (status: number, payload: unknown, errorType?: string) => {
      const headers: Record<string, string> = { ...SESSION_HEADERS, 'x-amzn-requestid': requestId };
      if (errorType) headers['x-amzn-errortype'] = errorType;
      res.writeHead(status, headers);
      res.end(JSON.stringify(payload));
    };
    try {
      const path = (req.url ?? '').split('?')[0] ?? '';
      const raw = await readBody(req);
      if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw || '{}') as Record<string, unknown>;
      } catch {
        throw new SesError('BadRequestException', 400, 'request body is not JSON');
      }
      return reply(200, route(req.method ?? 'GET', path, body));
    } catch (err) {
      if (err instanceof SesError) return reply(err.status, { message: err.message }, err.code);
      return reply(500, { message: String(err) }, 'InternalFailure');
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(start.port ?? 0, start.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const flush = async () => {
    while (pending.size) await Promise.all([...pending]);
  };
  return {
    endpoint: `http://${start.host ?? '127.0.0.1'}:${port}`,
    port,
    sent,
    stats,
    setOptions(next) {
      options = { ...options, ...next };
      if (next.verifiedIdentities) registry.ensureVerified(next.verifiedIdentities);
    },
    reset() {
      sent.length = 0;
      if (start.outboxFile) writeFileSync(start.outboxFile, '');
      recentAccepts = [];
      dayAccepts = [];
      for (const k of Object.keys(stats) as (keyof LocalSesStats)[]) stats[k] = 0;
    },
    flush,
    async replayOutbox() {
      const newest = recovered.reduce((t, e) => Math.max(t, Date.parse(e.message.at)), 0);
      const from = newest - (start.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS);
      const again = recovered.filter((e) => Date.parse(e.message.at) >= from && e.events.length);
      recovered.length = 0;
      for (const e of again) publish(e.events);
      await flush();
      return again.length;
    },
    exportState: () => registry.exportState(),
    importState(state) {
      registry.importState(state);
      registry.ensureVerified(options.verifiedIdentities ?? []);
    },
    setIdentityStatus: (identity, status) => registry.setIdentityStatus(identity, status),
    async setTenantSendingStatus(tenantName, status, opts = {}) {
      return announceStatus(registry.setTenantSendingStatus(tenantName, status), opts);
    },
    async stop() {
      await flush();
      sns?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
