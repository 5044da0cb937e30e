/**
 * SES Tenants mode (stage option `sesTenants`): one SES tenant per Mailmeter tenant. Pure
 * rules: the SES tenant's name (deterministic from the stage and the Mailmeter tenant id, so a
 * crashed creation is repaired by creating the same name again), the ARNs it is associated
 * with, the AWS-managed reputation policies, and the EventBridge sending-status event.
 *
 * The event shape is the one in the SES developer guide ("Tenants", EventBridge examples):
 * `source` aws.ses, `detail-type` "Sending Status Disabled" / "Sending Status Enabled",
 * `resources` [the tenant's ARN], `detail.data.origin` (AWS_MANAGED or CUSTOMER_MANAGED) and
 * `detail.data.record` { status ENABLED | DISABLED | REINSTATED, cause, lastUpdatedTimestamp as
 * [year, month, day, hour, minute, second, nanoseconds] }.
 */
import * as z from 'zod';
import type { PolicyMode } from './reputation-policy';

export const SES_STATUS_DETAIL_TYPES = ['Sending Status Disabled', 'Sending Status Enabled'] as const;
export const SES_SENDING_STATUSES = ['ENABLED', 'DISABLED', 'REINSTATED'] as const;
export type SesSendingStatus = (typeof SES_SENDING_STATUSES)[number];

/** SES: up to 64 characters, ASCII letters, digits, `-` and `_`. */
const TENANT_NAME_MAX = 64;

/** The prefix of every SES tenant name of a stage: `mailmeter-<stage>-`. */
export function sesTenantPrefix(stage: string): string {
  return `mailmeter-${stage.replace(/[^A-Za-z0-9_-]/g, '-')}-`;
}

/** The SES tenant of a Mailmeter tenant (ids are 26-character ULIDs; stage names at most 20 characters). */
export function sesTenantName(stage: string, tenantId: string): string {
  const name = `${sesTenantPrefix(stage)}${tenantId}`;
  if (name.length > TENANT_NAME_MAX || !/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`no valid SES tenant name for ${stage}/${tenantId}: ${name}`);
  return name;
}

/** The Mailmeter tenant id an SES tenant name stands for in this stage, or undefined (another stage's, or not Mailmeter's). */
export function tenantIdOfSesTenant(stage: string, sesName: string): string | undefined {
  const prefix = sesTenantPrefix(stage);
  if (!sesName.startsWith(prefix)) return undefined;
  const id = sesName.slice(prefix.length);
  return /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id) ? id : undefined;
}

/** `aws`, `aws-cn` or `aws-us-gov`, from the region's name. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export interface SesArnScope {
  region: string;
  accountId: string;
}

export function identityArn(s: SesArnScope, identity: string): string {
  return `arn:${partitionOf(s.region)}:ses:${s.region}:${s.accountId}:identity/${identity}`;
}

export function configurationSetArn(s: SesArnScope, name: string): string {
  return `arn:${partitionOf(s.region)}:ses:${s.region}:${s.accountId}:configuration-set/${name}`;
}

/** The AWS-managed reputation policy of a mode: `arn:aws:ses:<region>:aws:reputation-policy/<none|standard|strict>` (the pattern CloudFormation's AWS::SES::Tenant validates). */
export function reputationPolicyArn(region: string, mode: PolicyMode): string {
  return `arn:${partitionOf(region)}:ses:${region}:aws:reputation-policy/${mode}`;
}

/** The tenant's name in an SES tenant ARN: `arn:aws:ses:<region>:<account>:tenant/<name>/<id>`. */
export function sesTenantNameOfArn(arn: string): string | undefined {
  const m = /^arn:[a-z0-9-]+:ses:[a-z0-9-]*:\d*:tenant\/([A-Za-z0-9_-]+)\/[^/]+$/.exec(arn);
  return m?.[1];
}

const sendingStatusEvent = z.object({
  source: z.literal('aws.ses'),
  'detail-type': z.enum(SES_STATUS_DETAIL_TYPES),
  time: z.string().optional(),
  resources: z.array(z.string()).min(1),
  detail: z.object({
    data: z.object({
      origin: z.string().optional(),
      record: z.object({
        status: z.enum(SES_SENDING_STATUSES),
        cause: z.string().nullish(),
        lastUpdatedTimestamp: z.array(z.number()).min(6).optional(),
      }),
    }),
  }),
});

export interface SesStatusChange {
  /** The SES tenant's name (from the tenant ARN in `resources`). */
  sesTenant: string;
  status: SesSendingStatus;
  /** Whether the tenant may send after this change (ENABLED and REINSTATED do). */
  enabled: boolean;
  origin?: string;
  cause?: string;
  /** When SES changed the status (the record's timestamp, else the event's time). */
  at: Date;
}

/** [year, month (1-12), day, hour, minute, second, nanoseconds] in UTC. */
function timestampOf(parts: number[]): Date | undefined {
  const [y, mo, d, h, mi, s, ns] = parts;
  if (y === undefined || mo === undefined || d === undefined || h === undefined || mi === undefined || s === undefined) return undefined;
  const at = new Date(Date.UTC(y, mo - 1, d, h, mi, s, Math.floor((ns ?? 0) / 1e6)));
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** The status change an SES sending-status event reports, or an error naming what does not fit. */
export function parseSesStatusEvent(event: unknown): { ok: true; change: SesStatusChange } | { ok: false; reason: string } {
  const parsed = sendingStatusEvent.safeParse(event);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ') };
  const e = parsed.data;
  const sesTenant = e.resources.map(sesTenantNameOfArn).find((n) => n !== undefined);
  if (!sesTenant) return { ok: false, reason: `resources: no SES tenant ARN in ${JSON.stringify(e.resources)}` };
  const { record, origin } = e.detail.data;
  const at = (record.lastUpdatedTimestamp && timestampOf(record.lastUpdatedTimestamp)) ?? (e.time ? new Date(e.time) : undefined);
  if (!at || Number.isNaN(at.getTime())) return { ok: false, reason: 'detail.data.record.lastUpdatedTimestamp: no usable time (nor the event time)' };
  return {
    ok: true,
    change: {
      sesTenant,
      status: record.status,
      enabled: record.status !== 'DISABLED',
      ...(origin ? { origin } : {}),
      ...(record.cause ? { cause: record.cause } : {}),
      at,
    },
  };
}
