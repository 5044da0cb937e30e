/**
 * Sending domains: a tenant adds a domain (Mailmeter creates the SES identity with Easy DKIM and
 * answers the DNS records to publish), SES verifies it once the records are in DNS, and from
 * then on the tenant — and only that tenant — sends from it. Verification is checked at
 * creation, on demand, and by a schedule that reads only the pending domains (back-off, given up
 * after SES's 72 hours).
 */
import {
  AlreadyExistsException,
  CreateEmailIdentityCommand,
  DeleteEmailIdentityCommand,
  GetEmailIdentityCommand,
  type GetEmailIdentityCommandOutput,
  NotFoundException,
  PutEmailIdentityMailFromAttributesCommand,
  type SESv2Client,
} from '@aws-sdk/client-sesv2';
import type { Db } from '../../data/db';
import {
  claimDomain,
  type Domain,
  dueDomainChecks,
  getDomain,
  hasVerifiedClaim,
  listTenantDomains,
  recordCheck,
  releaseDomain,
  requireDomain,
  takenByAnother,
} from '../../data/domains';
import { logger } from '../../platform/powertools';
import {
  checkDomainName,
  coveringNames,
  type DnsRecord,
  type DomainStatus,
  dnsRecords,
  domainOfAddress,
  domainStatusOf,
  nextCheckDelayMs,
  VERIFICATION_WINDOW_MS,
} from '../../rules/domains';
import { ConflictError, ForbiddenError, ValidationError } from '../../rules/errors';
import { ulid } from '../../rules/ids';
import { associateDomain, disassociateDomain, type SesTenantsDeps } from '../ses-tenants/ses-tenants';

export interface DomainDeps {
  db: Db;
  ses: SESv2Client;
  region: string;
  /** Stage option: a MAIL FROM subdomain (`mail` → `mail.<domain>`), or none. */
  mailFromSubdomain?: string;
  /** The stage's configuration set, the identities' default. */
  configurationSet?: string;
  /** First wait of the verification schedule (ms); doubles after each check. */
  checkBaseMs?: number;
  /** SES Tenants mode: a tenant's domains are associated with its SES tenant. */
  sesTenants?: SesTenantsDeps;
}

export interface DomainView {
  id: string;
  domain: string;
  status: DomainStatus;
  records: DnsRecord[];
  created_at: string;
  verified_at?: string;
  last_checked_at?: string;
}

export function domainView(d: Domain, deps: Pick<DomainDeps, 'region' | 'mailFromSubdomain'>): DomainView {
  const mailFromSubdomain = d.mailFromDomain ? d.mailFromDomain.slice(0, d.mailFromDomain.length - d.domain.length - 1) : undefined;
  return {
    id: d.id,
    domain: d.domain,
    status: d.status,
    records: dnsRecords(d.domain, d.dkimTokens, { region: deps.region, ...(mailFromSubdomain ? { mailFromSubdomain } : {}) }),
    created_at: d.created_at,
    ...(d.verified_at ? { verified_at: d.verified_at } : {}),
    ...(d.last_checked_at ? { last_checked_at: d.last_checked_at } : {}),
  };
}

export function adminDomainView(d: Domain, deps: Pick<DomainDeps, 'region' | 'mailFromSubdomain'>) {
  return { ...domainView(d, deps), tenantId: d.tenantId, shared: d.shared };
}

function validName(input: string): { domain: string; registrable: string } {
  const checked = checkDomainName(input);
  if (!checked.ok) throw new ValidationError('domain', checked.reason);
  return checked;
}

/** Fails fast, before SES is touched, when the name is plainly taken; the claim's transaction is what decides. */
async function assertFree(deps: DomainDeps, tenantId: string, domain: string, registrable: string): Promise<void> {
  if (await takenByAnother(deps.db, tenantId, { domain, registrable })) {
    throw new ConflictError(`domain: ${domain}, a parent or a sub-domain of it belongs to another tenant`);
  }
}

interface Identity {
  created: boolean;
  tokens: string[];
  status: DomainStatus;
}

/** Creates the SES identity (Easy DKIM, RSA 2048), or adopts the one that exists. */
async function createIdentity(deps: DomainDeps, domain: string): Promise<Identity> {
  try {
    const out = await deps.ses.send(
      new CreateEmailIdentityCommand({
        EmailIdentity: domain,
        DkimSigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' },
        ...(deps.configurationSet ? { ConfigurationSetName: deps.configurationSet } : {}),
      }),
    );
    if (deps.mailFromSubdomain) {
      await deps.ses.send(
        new PutEmailIdentityMailFromAttributesCommand({
          EmailIdentity: domain,
          MailFromDomain: `${deps.mailFromSubdomain}.${domain}`,
          BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
        }),
      );
    }
    return { created: true, tokens: out.DkimAttributes?.Tokens ?? [], status: out.VerifiedForSendingStatus ? 'verified' : 'pending' };
  } catch (err) {
    if (!(err instanceof AlreadyExistsException)) throw err;
    const existing = await readIdentity(deps, domain);
    if (!existing) throw err;
    return { created: false, ...existing };
  }
}

async function readIdentity(deps: DomainDeps, domain: string): Promise<{ tokens: string[]; status: DomainStatus } | undefined> {
  let out: GetEmailIdentityCommandOutput;
  try {
    out = await deps.ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
  } catch (err) {
    if (err instanceof NotFoundException) return undefined;
    throw err;
  }
  return { tokens: out.DkimAttributes?.Tokens ?? [], status: domainStatusOf(out.VerificationStatus ?? (out.VerifiedForSendingStatus ? 'SUCCESS' : undefined)) };
}

function newDomain(tenantId: string, name: { domain: string; registrable: string }, identity: Identity, shared: boolean, deps: DomainDeps, now: Date): Domain {
  const pending = identity.status === 'pending' || identity.status === 'temporary_failure';
  const at = now.toISOString();
  return {
    id: ulid(now.getTime()),
    tenantId,
    domain: name.domain,
    registrable: name.registrable,
    status: identity.status,
    dkimTokens: identity.tokens,
    ...(deps.mailFromSubdomain && identity.created ? { mailFromDomain: `${deps.mailFromSubdomain}.${name.domain}` } : {}),
    shared,
    created_at: at,
    updated_at: at,
    ...(identity.status === 'verified' ? { verified_at: at } : {}),
    checks: 0,
    ...(pending ? { next_check_at: new Date(now.getTime() + nextCheckDelayMs(0, deps.checkBaseMs)).toISOString() } : {}),
    version: 1,
  };
}

/** POST /v1/domains (and the operator's assignment without `verified`). */
export async function addDomain(deps: DomainDeps, tenantId: string, input: string, now: Date, opts: { shared?: boolean } = {}): Promise<Domain> {
  const name = validName(input);
  await assertFree(deps, tenantId, name.domain, name.registrable);
  const identity = await createIdentity(deps, name.domain);
  const domain = newDomain(tenantId, name, identity, opts.shared ?? !identity.created, deps, now);
  let claimed: Domain;
  try {
    claimed = await claimDomain(deps.db, domain);
  } catch (err) {
    // Lost a race for the name: the identity this call created is not anyone's.
    if (identity.created) await deleteIdentity(deps, name.domain);
    throw err;
  }
  await associateWithSesTenant(deps, tenantId, claimed.domain, now);
  return claimed;
}

/**
 * SES Tenants mode: the claimed domain's identity joins the tenant's SES tenant. The claim
 * stands if this fails: the sender repairs the associations when SES refuses a send for them.
 */
async function associateWithSesTenant(deps: DomainDeps, tenantId: string, domain: string, now: Date): Promise<void> {
  if (!deps.sesTenants) return;
  try {
    await associateDomain(deps.sesTenants, tenantId, domain, now);
  } catch (err) {
    logger.error('associating a domain with the SES tenant failed; the sender repairs it', { tenantId, domain, error: err as Error });
  }
}

/** POST /v1/admin/tenants/{id}/domains with `verified: true`: an identity the operator verified in SES. */
export async function assignVerifiedDomain(deps: DomainDeps, tenantId: string, input: string, now: Date): Promise<Domain> {
  const name = validName(input);
  const identity = await readIdentity(deps, name.domain);
  if (!identity) throw new ValidationError('domain', `${name.domain} is not an identity in SES; leave out "verified" to create it`);
  if (identity.status !== 'verified') throw new ValidationError('verified', `SES reports ${name.domain} as ${identity.status}, not verified`);
  const claimed = await claimDomain(deps.db, newDomain(tenantId, name, { created: false, ...identity }, true, deps, now));
  await associateWithSesTenant(deps, tenantId, claimed.domain, now);
  return claimed;
}

/** Asks SES now and records what it says (POST /v1/domains/{id}/verify, and the schedule). */
export async function checkDomain(deps: DomainDeps, d: Domain, now: Date): Promise<Domain> {
  const identity = await readIdentity(deps, d.domain);
  let status: DomainStatus = identity?.status ?? 'failed';
  const expired = now.getTime() - Date.parse(d.created_at) > VERIFICATION_WINDOW_MS;
  if (status === 'pending' && expired) status = 'failed';
  const keepChecking = status === 'pending' || status === 'temporary_failure';
  const nextCheckAt = keepChecking ? new Date(now.getTime() + nextCheckDelayMs(d.checks + 1, deps.checkBaseMs)) : undefined;
  const next = await recordCheck(deps.db, d, { status, now, ...(nextCheckAt ? { nextCheckAt } : {}) });
  if (next.status !== d.status) logger.info('domain status changed', { tenantId: d.tenantId, domain: d.domain, from: d.status, to: next.status });
  return next;
}

export async function verifyDomainNow(deps: DomainDeps, tenantId: string, domainId: string, now: Date): Promise<Domain> {
  return checkDomain(deps, await requireDomain(deps.db, tenantId, domainId), now);
}

async function deleteIdentity(deps: Pick<DomainDeps, 'ses'>, domain: string): Promise<void> {
  try {
    await deps.ses.send(new DeleteEmailIdentityCommand({ EmailIdentity: domain }));
  } catch (err) {
    if (!(err instanceof NotFoundException)) throw err;
  }
}

/** DELETE /v1/domains/{id}: the claim goes first (sends refused), then the SES identity unless shared. */
export async function removeDomain(deps: DomainDeps, tenantId: string, domainId: string): Promise<void> {
  const d = await requireDomain(deps.db, tenantId, domainId);
  await releaseDomain(deps.db, d);
  // SES refuses to delete an identity that still has tenant associations.
  if (deps.sesTenants) await disassociateDomain(deps.sesTenants, tenantId, d.domain);
  if (!d.shared) await deleteIdentity(deps, d.domain);
}

/**
 * Offboarding: every domain of the tenant is released (another tenant can claim the name) and
 * the SES identities Mailmeter created for it are deleted; shared ones (an identity that existed
 * before, or one the operator assigned as verified) stay in SES. Returns how many were released.
 */
export async function releaseTenantDomains(deps: Pick<DomainDeps, 'db' | 'ses'>, tenantId: string): Promise<number> {
  let n = 0;
  for (;;) {
    // Each page is released before the next is read, so the first page is always the next one.
    const page = await listTenantDomains(deps.db, tenantId, { limit: 100 });
    for (const d of page.domains) {
      await releaseDomain(deps.db, d);
      if (!d.shared) await deleteIdentity(deps, d.domain);
      n++;
    }
    if (!page.nextCursor) return n;
  }
}

/** The schedule: checks the pending domains that are due, and nothing else. */
export async function runDueDomainChecks(deps: DomainDeps, now: Date, limit = 50): Promise<{ checked: number; changed: number }> {
  const due = await dueDomainChecks(deps.db, now, limit);
  let changed = 0;
  for (const { tenantId, domainId } of due) {
    const d = await getDomain(deps.db, tenantId, domainId);
    if (!d) continue;
    try {
      const next = await checkDomain(deps, d, now);
      if (next.status !== d.status) changed++;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  return { checked: due.length, changed };
}

/**
 * The send-time check: `from` must be at a domain verified for this tenant (the domain itself or
 * a parent the tenant verified). One BatchGet per request, cached per tenant and domain for
 * `ttlMs` — the window in which a deleted domain can still be sent from.
 */
export function createSendingDomainGuard(db: Db, ttlMs: number, clock: () => number = Date.now) {
  const cache = new Map<string, { allowed: boolean; until: number }>();
  return async function assertSendingDomain(tenantId: string, from: string): Promise<void> {
    const domain = domainOfAddress(from);
    const key = `${tenantId} ${domain}`;
    const now = clock();
    let entry = cache.get(key);
    if (!entry || entry.until <= now) {
      entry = { allowed: await hasVerifiedClaim(db, tenantId, coveringNames(domain)), until: now + ttlMs };
      if (cache.size > 10_000) cache.clear();
      cache.set(key, entry);
    }
    if (!entry.allowed) throw new ForbiddenError(`from: ${domain} is not a sending domain verified for this tenant (add it with POST /v1/domains)`);
  };
}
