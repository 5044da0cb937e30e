/**
 * SES Tenants mode (stage option `sesTenants`, README "SES Tenants"): each Mailmeter tenant has
 * an SES tenant of a name derived from its id (shared/rules/ses-tenants.ts), associated with the
 * stage's configuration set and every sending domain of the tenant, under the SES reputation
 * policy of the tenant's effective Mailmeter policy (none / standard / strict). Every SendEmail
 * names it (TenantName), and SES's own pauses of it are mirrored into the tenant's sending
 * status with `by: "ses"`.
 *
 * Recoverable by construction: every step is idempotent (an SES tenant or association that
 * exists already is success), and the tenant item records `sesTenant` only once every step
 * succeeded. So a crash anywhere between the Mailmeter tenant and its SES set-up leaves a tenant
 * without `sesTenant`, which the sender (before the tenant's next send) or a retried step repairs
 * by running the whole set-up again.
 */
import {
  AlreadyExistsException,
  CreateTenantCommand,
  CreateTenantResourceAssociationCommand,
  DeleteTenantResourceAssociationCommand,
  GetTenantCommand,
  NotFoundException,
  type SESv2Client,
  UpdateReputationEntityPolicyCommand,
} from '@aws-sdk/client-sesv2';
import type { Db } from '../../data/db';
import { listTenantDomains } from '../../data/domains';
import type { SuppressionScope } from '../../data/suppressions';
import { getTenant, markSesTenantReady, recordSesStatus, type SesTenantRef, setTenantSending, type Tenant } from '../../data/tenants';
import { logger } from '../../platform/powertools';
import { NotFoundError } from '../../rules/errors';
import type { PolicyMode } from '../../rules/reputation-policy';
import {
  configurationSetArn,
  identityArn,
  parseSesStatusEvent,
  reputationPolicyArn,
  type SesArnScope,
  sesTenantName,
  tenantIdOfSesTenant,
} from '../../rules/ses-tenants';

export interface SesTenantsDeps {
  db: Db;
  /** SES v2 with the SDK's retries (not the sender's single-attempt client). */
  ses: SESv2Client;
  stage: string;
  region: string;
  accountId: string;
  /** The stage's configuration set, associated with every SES tenant. */
  configurationSet: string;
  /** The stage's reputation policy mode (a tenant's own `reputationPolicy.mode` wins). */
  policyMode: PolicyMode;
  /** `tenant`: the SES tenant keeps its own suppression list too, as Mailmeter's tenant-scoped lists do. */
  suppressionScope: SuppressionScope;
}

function arnScope(deps: SesTenantsDeps): SesArnScope {
  return { region: deps.region, accountId: deps.accountId };
}

/** The SES reputation policy mode a tenant runs under: its own override, else the stage's. */
export function effectivePolicyMode(deps: Pick<SesTenantsDeps, 'policyMode'>, tenant: Pick<Tenant, 'reputationPolicy'>): PolicyMode {
  return tenant.reputationPolicy?.mode ?? deps.policyMode;
}

/** Creates the SES tenant, or finds the one a previous attempt created; answers its ARN. */
async function createOrFind(deps: SesTenantsDeps, name: string): Promise<string | undefined> {
  try {
    const out = await deps.ses.send(
      new CreateTenantCommand({
        TenantName: name,
        ...(deps.suppressionScope === 'tenant' ? { SuppressionAttributes: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'], SuppressionScope: 'TENANT' } } : {}),
      }),
    );
    return out.TenantArn;
  } catch (err) {
    if (!(err instanceof AlreadyExistsException)) throw err;
    const out = await deps.ses.send(new GetTenantCommand({ TenantName: name }));
    return out.Tenant?.TenantArn;
  }
}

async function associate(deps: SesTenantsDeps, name: string, resourceArn: string): Promise<void> {
  try {
    await deps.ses.send(new CreateTenantResourceAssociationCommand({ TenantName: name, ResourceArn: resourceArn }));
  } catch (err) {
    if (!(err instanceof AlreadyExistsException)) throw err;
  }
}

async function applyPolicy(deps: SesTenantsDeps, tenantArn: string, mode: PolicyMode): Promise<void> {
  await deps.ses.send(
    new UpdateReputationEntityPolicyCommand({
      ReputationEntityType: 'RESOURCE',
      ReputationEntityReference: tenantArn,
      ReputationEntityPolicy: reputationPolicyArn(deps.region, mode),
    }),
  );
}

/**
 * Sets up (or repairs) the tenant's SES tenant: create it, apply the reputation policy,
 * associate the configuration set and every domain of the tenant, then record `sesTenant`.
 * Safe to run any number of times, concurrently too.
 */
export async function ensureSesTenant(deps: SesTenantsDeps, tenantId: string, now: Date): Promise<SesTenantRef> {
  const tenant = await getTenant(deps.db, tenantId, { consistent: true });
  if (!tenant) throw new NotFoundError('Tenant not found');
  const name = sesTenantName(deps.stage, tenantId);
  const arn = await createOrFind(deps, name);
  if (arn) await applyPolicy(deps, arn, effectivePolicyMode(deps, tenant));
  await associate(deps, name, configurationSetArn(arnScope(deps), deps.configurationSet));
  let cursor: string | undefined;
  do {
    const page = await listTenantDomains(deps.db, tenantId, { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const d of page.domains) await associate(deps, name, identityArn(arnScope(deps), d.domain));
    cursor = page.nextCursor;
  } while (cursor);
  await markSesTenantReady(deps.db, tenantId, { name, ...(arn ? { arn } : {}) }, now);
  return { name, ...(arn ? { arn } : {}), ready_at: now.toISOString() };
}

/** After a tenant is created: its SES tenant. A failure leaves the tenant usable; the sender repairs it before its first send. */
export async function setUpNewTenant(deps: SesTenantsDeps, tenantId: string, now: Date): Promise<void> {
  try {
    await ensureSesTenant(deps, tenantId, now);
  } catch (err) {
    logger.error('SES tenant set-up failed; the sender repairs it before the first send', { tenantId, error: err as Error });
  }
}

/** A domain the tenant just claimed: associate its identity (the whole set-up when the SES tenant is not ready yet). */
export async function associateDomain(deps: SesTenantsDeps, tenantId: string, domain: string, now: Date): Promise<void> {
  const tenant = await getTenant(deps.db, tenantId, { consistent: true });
  if (!tenant?.sesTenant) {
    await ensureSesTenant(deps, tenantId, now);
    return;
  }
  await associate(deps, tenant.sesTenant.name, identityArn(arnScope(deps), domain));
}

/** A domain the tenant gave up: SES refuses to delete an identity that still has tenant associations. */
export async function disassociateDomain(deps: SesTenantsDeps, tenantId: string, domain: string): Promise<void> {
  try {
    await deps.ses.send(
      new DeleteTenantResourceAssociationCommand({ TenantName: sesTenantName(deps.stage, tenantId), ResourceArn: identityArn(arnScope(deps), domain) }),
    );
  } catch (err) {
    // No SES tenant (never set up): nothing is associated.
    if (!(err instanceof NotFoundException)) throw err;
  }
}

/** After a tenant's reputation policy changed: the SES tenant's policy follows. */
export async function applyTenantPolicy(deps: SesTenantsDeps, tenant: Tenant, now: Date): Promise<void> {
  if (!tenant.sesTenant?.arn) {
    await ensureSesTenant(deps, tenant.id, now);
    return;
  }
  await applyPolicy(deps, tenant.sesTenant.arn, effectivePolicyMode(deps, tenant));
}

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
