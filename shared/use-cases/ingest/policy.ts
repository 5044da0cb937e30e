/**
 * The reputation policy, evaluated where the counters change: after the aggregator commits a
 * batch, each tenant whose hard bounces or complaints grew in it is looked at (one GetItem of the
 * tenant and one Query of its counters), so a tenant is paused within a batching window of the
 * event that crossed the line, whatever the number of tenants, and no idle tenant costs anything.
 * The rates are those GET /v1/reputation shows (the representative window), counted from the
 * last resumption on: a resumed tenant is not paused again at once by the same old bounces.
 */
import { type Counts, readDays, readHours, zeroCounts } from '../../data/counters';
import type { Db } from '../../data/db';
import { utcDay, utcHour } from '../../data/keys';
import { getTenant, type SendingStatus, sendingOf, setTenantSending, type Tenant } from '../../data/tenants';
import { logger } from '../../platform/powertools';
import { policyPauseReason, type ReputationPolicy } from '../../rules/reputation-policy';
import { lastDays } from '../../rules/time';
import { computeReputation, REPRESENTATIVE_WINDOWS } from '../read/reputation';

/** Day counters of the representative window, without what was counted before `since` (the last resumption). */
export async function countsSince(db: Db, tenantId: string, now: Date, since: SendingStatus | undefined): Promise<Map<string, Counts>> {
  const span = lastDays(now, REPRESENTATIVE_WINDOWS[REPRESENTATIVE_WINDOWS.length - 1] ?? 90);
  const from = span[0] ?? utcDay(now);
  const days = await readDays(db, tenantId, from, utcDay(now));
  if (!since?.evaluationStart) return days;
  const sinceDay = utcDay(new Date(since.evaluationStart));
  for (const day of [...days.keys()]) if (day < sinceDay) days.delete(day);
  if (days.has(sinceDay)) {
    // The day of the resumption counts from its hour on (hour counters: at most 24 items).
    const hours = await readHours(db, tenantId, utcHour(new Date(since.evaluationStart)), `${sinceDay}T23`);
    const partial = zeroCounts();
    for (const c of hours.values()) for (const k of Object.keys(partial) as (keyof Counts)[]) partial[k] += c[k];
    // What the resumption's own hour had counted by then is from before it.
    const base = since.evaluationBaseline;
    if (base && hours.has(base.hour)) {
      partial.sent = Math.max(0, partial.sent - base.sent);
      partial.bouncedHard = Math.max(0, partial.bouncedHard - base.bouncedHard);
      partial.complained = Math.max(0, partial.complained - base.complained);
    }
    days.set(sinceDay, partial);
  }
  return days;
}

/** The policy that applies to a tenant: its own override, else the stage's. */
export function policyOf(tenant: Pick<Tenant, 'reputationPolicy'>, stage: ReputationPolicy): ReputationPolicy {
  return { ...stage, ...tenant.reputationPolicy };
}

/** Pauses the tenant when its rates cross the policy's line; true when this call paused it. */
export async function evaluateTenantPolicy(db: Db, tenantId: string, stage: ReputationPolicy, now: Date): Promise<boolean> {
  const tenant = await getTenant(db, tenantId);
  if (!tenant || sendingOf(tenant).status !== 'active') return false;
  const policy = policyOf(tenant, stage);
  if (policy.mode === 'none') return false;
  const rep = computeReputation(await countsSince(db, tenantId, now, sendingOf(tenant)), now);
  const reason = policyPauseReason(policy, { sent: rep.representativeVolume, bounceRate: rep.bounceRate.rate, complaintRate: rep.complaintRate.rate });
  if (!reason) return false;
  // Conditional: never overrides a pause by the operator or SES, never pauses twice.
  const paused = await setTenantSending(db, tenantId, { status: 'paused', by: 'policy', reason, onlyIfActive: true }, now);
  if (paused) logger.warn('tenant paused by the reputation policy', { tenantId, reason });
  return paused !== undefined;
}
