/**
 * Sending domains for tests: every send needs a `from` at a domain verified for the tenant.
 * This writes the verified claim straight into the table (as if SES had verified the domain),
 * through the same repository the domains API uses.
 */
import type { Db } from '../../shared/data/db';
import { claimDomain, type Domain } from '../../shared/data/domains';
import { checkDomainName } from '../../shared/rules/domains';
import { ulid } from '../../shared/rules/ids';
import { createSendingDomainGuard } from '../../shared/use-cases/domains/domains';

export async function verifiedDomain(db: Db, tenantId: string, name = 'example.com', now = new Date()): Promise<Domain> {
  const checked = checkDomainName(name);
  if (!checked.ok) throw new Error(`${name}: ${checked.reason}`);
  const at = now.toISOString();
  return claimDomain(db, {
    id: ulid(),
    tenantId,
    domain: checked.domain,
    registrable: checked.registrable,
    status: 'verified',
    dkimTokens: ['token1', 'token2', 'token3'],
    shared: true,
    created_at: at,
    updated_at: at,
    verified_at: at,
    checks: 0,
    version: 1,
  });
}

/** The production send-time guard, uncached, for use cases called directly. */
export function sendingDomainGuard(db: Db) {
  return createSendingDomainGuard(db, 0);
}
