/**
 * SES Tenants mode: SES's own pauses of a tenant's SES tenant mirrored into the tenant's sending
 * status (`by: "ses"`). Only the table is touched here (no SES client), so the mirror function
 * and the admin API's resume bundle no SES code for it.
 */
import type { Db } from '../../data/db';
import { getTenant, recordSesStatus, setTenantSending, type Tenant } from '../../data/tenants';
import { NotFoundError } from '../../rules/errors';
import { parseSesStatusEvent, tenantIdOfSesTenant } from '../../rules/ses-tenants';

/**
 * The operator resumes a tenant. While SES itself still reports the SES tenant DISABLED, SES
 * refuses its sends whatever Mailmeter says, so the tenant stays paused, now by `ses` (lifted by
 * SES's own Enabled event); otherwise it is resumed.
 */
export async function resumeByOperator(db: Db, tenantId: string, now: Date): Promise<Tenant | undefined> {
  const tenant = await getTenant(db, tenantId, { consistent: true });
  if (!tenant) throw new NotFoundError('Tenant not found');
  if (tenant.sesStatus?.status === 'DISABLED') {
    const reason = `SES paused the SES tenant${tenant.sesStatus.cause ? `: ${tenant.sesStatus.cause}` : ''}`;
    return setTenantSending(db, tenantId, { status: 'paused', by: 'ses', reason }, now);
  }
  return setTenantSending(db, tenantId, { status: 'active', by: 'operator' }, now);
}

export type MirrorOutcome = 'paused' | 'resumed' | 'unchanged' | 'stale' | 'not-ours';

/**
 * An SES sending-status event (EventBridge) mirrored into the tenant's sending status:
 * Disabled pauses an active tenant (`by: "ses"`, SES's cause as the reason); Enabled (or
 * Reinstated) resumes the tenant only if SES paused it — an operator's or the policy's pause
 * stays. Events of other stages' or foreign SES tenants are ignored; an event older than the
 * status held is ignored (EventBridge may deliver out of order and more than once).
 * Throws on an event that does not have the documented shape (it then lands in the DLQ).
 */
export async function mirrorSesStatus(db: Db, stage: string, event: unknown, now: Date): Promise<{ outcome: MirrorOutcome; tenantId?: string }> {
  const parsed = parseSesStatusEvent(event);
  if (!parsed.ok) throw new Error(`not an SES sending-status event: ${parsed.reason}`);
  const change = parsed.change;
  const tenantId = tenantIdOfSesTenant(stage, change.sesTenant);
  if (!tenantId) return { outcome: 'not-ours' };
  const held = await recordSesStatus(db, tenantId, {
    status: change.status,
    at: change.at.toISOString(),
    ...(change.origin ? { origin: change.origin } : {}),
    ...(change.cause ? { cause: change.cause } : {}),
  });
  if (held === 'unknown') return { outcome: 'not-ours', tenantId };
  if (held === 'stale') return { outcome: 'stale', tenantId };
  if (!change.enabled) {
    const reason = `SES ${change.origin === 'CUSTOMER_MANAGED' ? 'tenant status set to DISABLED' : 'paused the SES tenant'}${change.cause ? `: ${change.cause}` : ''}`;
    const t = await setTenantSending(db, tenantId, { status: 'paused', by: 'ses', reason, onlyIfActive: true }, now);
    return { outcome: t ? 'paused' : 'unchanged', tenantId };
  }
  const t = await setTenantSending(db, tenantId, { status: 'active', by: 'ses', onlyIfPausedBy: 'ses' }, now);
  return { outcome: t ? 'resumed' : 'unchanged', tenantId };
}
