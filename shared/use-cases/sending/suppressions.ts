/**
 * The tenant's suppression-list routes (/v1/suppressions). With the stage's suppressionScope
 * `account` every tenant reads the one account-wide list, and only the operator removes from it
 * (a tenant removing an address would let every tenant send to it again).
 */
import type { Suppression as SuppressionView } from '../../contract/suppressions';
import type { Db } from '../../data/db';
import {
  addSuppression,
  getSuppression,
  listSuppressions,
  removeSuppression,
  type Suppression,
  type SuppressionReason,
  type SuppressionScope,
  suppressionScopeOf,
} from '../../data/suppressions';
import { ForbiddenError, InternalError, NotFoundError } from '../../rules/errors';

export interface SuppressionDeps {
  db: Db;
  scope: SuppressionScope;
}

export function suppressionView(s: Suppression): SuppressionView {
  const v: SuppressionView = { email: s.email, reason: s.reason, created_at: s.created_at };
  if (s.messageId) v.messageId = s.messageId;
  if (s.jobId) v.jobId = s.jobId;
  return v;
}

export async function listTenantSuppressions(deps: SuppressionDeps, tenantId: string, q: { limit: number; cursor?: string; reason?: SuppressionReason }) {
  const page = await listSuppressions(deps.db, suppressionScopeOf(deps.scope, tenantId), q);
  return { suppressions: page.suppressions.map(suppressionView), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}

export async function getTenantSuppression(deps: SuppressionDeps, tenantId: string, email: string): Promise<SuppressionView> {
  const s = await getSuppression(deps.db, suppressionScopeOf(deps.scope, tenantId), email);
  if (!s) throw new NotFoundError('Address is not suppressed');
  return suppressionView(s);
}

/** Idempotent: an address already on the list keeps its entry (and its first reason), which is answered. */
export async function addManualSuppression(deps: SuppressionDeps, tenantId: string, email: string, now: Date): Promise<SuppressionView> {
  const scope = suppressionScopeOf(deps.scope, tenantId);
  await addSuppression(deps.db, scope, { email, reason: 'manual', created_at: now.toISOString(), tenantId });
  const s = await getSuppression(deps.db, scope, email);
  // Removed between the put and the read: the caller may simply add it again.
  if (!s) throw new InternalError('the suppression was removed while it was being added; try again');
  return suppressionView(s);
}

export async function removeTenantSuppression(deps: SuppressionDeps, tenantId: string, email: string): Promise<void> {
  if (deps.scope === 'account') throw new ForbiddenError('the suppression list is account-wide on this stage: only the operator can remove an address');
  if (!(await removeSuppression(deps.db, suppressionScopeOf(deps.scope, tenantId), email))) throw new NotFoundError('Address is not suppressed');
}
