/**
 * SES Tenants mode (stage option `sesTenants`, README "SES Tenants"): each Mailmeter tenant has
 * an SES tenant of a name derived from its id (shared/rules/ses-tenants.ts), associated with the
 * stage's configuration set and every sending domain of the tenant, under the SES reputation
 * policy of the tenant's effective Mailmeter policy (none / standard / strict). Every SendEmail
 * names it (TenantName), and SES's own pauses of it are mirrored into the tenant's sending
 * status with `by: "ses"` (mirror.ts, which needs no SES client).
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
  DeleteTenantCommand,
  DeleteTenantResourceAssociationCommand,
  GetTenantCommand,
  NotFoundException,
  type SESv2Client,
  UpdateReputationEntityPolicyCommand,
} from '@aws-sdk/client-sesv2';
import type { Db } from '../../data/db';
import { listTenantDomains } from '../../data/domains';
import type { SuppressionScope } from '../../data/suppressions';
import { getTenant, markSesTenantReady, type SesTenantRef, type Tenant } from '../../data/tenants';
import { logger } from '../../platform/powertools';
import { NotFoundError } from '../../rules/errors';
import type { PolicyMode } from '../../rules/reputation-policy';
import { configurationSetArn, identityArn, reputationPolicyArn, type SesArnScope, sesTenantName } from '../../rules/ses-tenants';

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

/** Offboarding: the SES tenant goes (SES drops its associations with it, so its identities can be deleted next). */
export async function deleteSesTenant(deps: SesTenantsDeps, tenantId: string): Promise<void> {
  try {
    await deps.ses.send(new DeleteTenantCommand({ TenantName: sesTenantName(deps.stage, tenantId) }));
  } catch (err) {
    // Never set up, or deleted by an earlier (interrupted) offboarding.
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
