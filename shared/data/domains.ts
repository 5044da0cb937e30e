/**
 * Sending domains. Three item types (keys.ts):
 * - the tenant's domain (`TENANT#t / DOMAIN#id`): name, status, DKIM tokens, on GSI1 by status
 *   for the operator's list;
 * - one claim item per domain name (`DOMAINNAME#name`): `claimedBy` (the tenant that added
 *   exactly this name), its `status` (copied, so a send checks it without reading the domain),
 *   and below-counts `descTotal` / `d_<tenant>` (claims under this name, per tenant);
 * - a pending domain's next verification check (`DOMAINCHECKS / <due>#<id>`).
 *
 * The one-tenant rule is enforced by DynamoDB itself, in the claim's transaction: the name must
 * be unclaimed and have no claims below it from another tenant; each parent up to the
 * registrable domain must be unclaimed or claimed by the same tenant (and counts this claim
 * below it). Two tenants racing for a parent and a sub-domain cannot both win.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type BatchGetCommandInput, type BatchGetCommandOutput, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { DOMAIN_STATUSES, type DomainStatus } from '../rules/domains';
import { ConflictError, InternalError, NotFoundError } from '../rules/errors';
import type { Db } from './db';
import { ItemKind, keys } from './keys';

export interface Domain {
  id: string;
  tenantId: string;
  /** Lower case, IDNs in punycode. */
  domain: string;
  /** The registrable domain it lies under (`example.co.uk`); parents are claimed up to it. */
  registrable: string;
  status: DomainStatus;
  dkimTokens: string[];
  mailFromDomain?: string;
  /** Assigned by the operator from an identity verified outside Mailmeter: never deleted from SES here. */
  shared: boolean;
  created_at: string;
  updated_at: string;
  verified_at?: string;
  last_checked_at?: string;
  /** Verification checks made so far (the schedule's back-off). */
  checks: number;
  /** When the schedule looks at it next (pending domains only). */
  next_check_at?: string;
  version: number;
}

const domainItem = z.object({
  kind: z.literal(ItemKind.Domain),
  id: z.string().min(1),
  tenantId: z.string().min(1),
  domain: z.string().min(1),
  registrable: z.string().min(1),
  status: z.enum(DOMAIN_STATUSES),
  dkimTokens: z.array(z.string()),
  mailFromDomain: z.string().optional(),
  shared: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
  verified_at: z.string().optional(),
  last_checked_at: z.string().optional(),
  checks: z.number().int().min(0),
  next_check_at: z.string().optional(),
  version: z.number().int().min(0),
});

function fromItem(item: Record<string, unknown>): Domain {
  const parsed = domainItem.safeParse(item);
  if (!parsed.success) throw new InternalError(`corrupt domain item ${String(item.pk)}/${String(item.sk)}: ${parsed.error.issues[0]?.message}`);
  const { kind: _kind, ...domain } = parsed.data;
  return domain;
}

function toItem(d: Domain) {
  return { ...keys.domain(d.tenantId, d.id), ...keys.domainListEntry(d.status, d.domain), kind: ItemKind.Domain, ...d };
}

function checkItem(d: Domain) {
  return { ...keys.domainCheck(d.next_check_at ?? d.created_at, d.id), kind: ItemKind.DomainCheck, tenantId: d.tenantId, domainId: d.id };
}

/** Parents of `domain` up to its registrable domain (not the name itself). */
function parentsOf(d: Pick<Domain, 'domain' | 'registrable'>): string[] {
  const out: string[] = [];
  for (let name = d.domain; name !== d.registrable && name.includes('.'); ) {
    name = name.slice(name.indexOf('.') + 1);
    out.push(name);
  }
  return out;
}

const belowCount = (tenantId: string) => `d_${tenantId}`;

/** Adds a domain for its tenant, enforcing the one-tenant rule (409 ConflictError otherwise). */
export async function claimDomain(db: Db, d: Domain): Promise<Domain> {
  const mine = belowCount(d.tenantId);
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: db.tableName, Item: toItem(d), ConditionExpression: 'attribute_not_exists(pk)' } },
          {
            Update: {
              TableName: db.tableName,
              Key: keys.domainName(d.domain),
              UpdateExpression: 'SET kind = :kind, claimedBy = :t, domainId = :id, #status = :status',
              ConditionExpression: 'attribute_not_exists(claimedBy) AND (attribute_not_exists(descTotal) OR descTotal = :zero OR descTotal = #mine)',
              ExpressionAttributeNames: { '#status': 'status', '#mine': mine },
              ExpressionAttributeValues: { ':kind': ItemKind.DomainName, ':t': d.tenantId, ':id': d.id, ':status': d.status, ':zero': 0 },
            },
          },
          ...parentsOf(d).map((name) => ({
            Update: {
              TableName: db.tableName,
              Key: keys.domainName(name),
              UpdateExpression: 'SET kind = :kind ADD descTotal :one, #mine :one',
              ConditionExpression: 'attribute_not_exists(claimedBy) OR claimedBy = :t',
              ExpressionAttributeNames: { '#mine': mine },
              ExpressionAttributeValues: { ':kind': ItemKind.DomainName, ':t': d.tenantId, ':one': 1 },
            },
          })),
          ...(d.status === 'pending' || d.status === 'temporary_failure' ? [{ Put: { TableName: db.tableName, Item: checkItem(d) } }] : []),
        ],
      }),
    );
    return d;
  } catch (err) {
    if (err instanceof TransactionCanceledException) throw await conflictOf(db, d);
    throw err;
  }
}

async function conflictOf(db: Db, d: Domain): Promise<ConflictError> {
  const own = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.domainName(d.domain) }));
  if (own.Item?.claimedBy === d.tenantId) return new ConflictError(`domain: ${d.domain} is already one of your sending domains (id ${String(own.Item.domainId)})`);
  return new ConflictError(`domain: ${d.domain}, a parent or a sub-domain of it belongs to another tenant`);
}

/** Removes a domain and its claims; sends from it are refused from then on (after the send check's cache). */
export async function releaseDomain(db: Db, d: Domain): Promise<void> {
  const mine = belowCount(d.tenantId);
  await db.doc.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Delete: {
            TableName: db.tableName,
            Key: keys.domain(d.tenantId, d.id),
            ConditionExpression: 'version = :v',
            ExpressionAttributeValues: { ':v': d.version },
          },
        },
        {
          Update: {
            TableName: db.tableName,
            Key: keys.domainName(d.domain),
            UpdateExpression: 'REMOVE claimedBy, domainId, #status',
            ConditionExpression: 'claimedBy = :t AND domainId = :id',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':t': d.tenantId, ':id': d.id },
          },
        },
        ...parentsOf(d).map((name) => ({
          Update: {
            TableName: db.tableName,
            Key: keys.domainName(name),
            UpdateExpression: 'ADD descTotal :minus, #mine :minus',
            ExpressionAttributeNames: { '#mine': mine },
            ExpressionAttributeValues: { ':minus': -1 },
          },
        })),
        ...(d.next_check_at ? [{ Delete: { TableName: db.tableName, Key: keys.domainCheck(d.next_check_at, d.id) } }] : []),
      ],
    }),
  );
}

/**
 * Records a verification result: the domain, its claim's copy of the status, its GSI1 entry and
 * its place in the check schedule (kept while pending, dropped once final) change together.
 */
export async function recordCheck(
  db: Db,
  d: Domain,
  result: { status: DomainStatus; now: Date; nextCheckAt?: Date },
): Promise<Domain> {
  const now = result.now.toISOString();
  const next: Domain = {
    ...d,
    status: result.status,
    last_checked_at: now,
    updated_at: now,
    checks: d.checks + 1,
    version: d.version + 1,
    ...(result.status === 'verified' && !d.verified_at ? { verified_at: now } : {}),
  };
  delete next.next_check_at;
  if (result.nextCheckAt) next.next_check_at = result.nextCheckAt.toISOString();
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: db.tableName, Item: toItem(next), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': d.version } } },
          {
            Update: {
              TableName: db.tableName,
              Key: keys.domainName(d.domain),
              UpdateExpression: 'SET #status = :status',
              ConditionExpression: 'domainId = :id',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':status': next.status, ':id': d.id },
            },
          },
          ...(d.next_check_at ? [{ Delete: { TableName: db.tableName, Key: keys.domainCheck(d.next_check_at, d.id) } }] : []),
          ...(next.next_check_at ? [{ Put: { TableName: db.tableName, Item: checkItem(next) } }] : []),
        ],
      }),
    );
  } catch (err) {
    // Deleted or checked by someone else meanwhile: their write stands.
    if (err instanceof TransactionCanceledException) throw new ConflictError(`domain ${d.domain} changed while it was being checked; try again`);
    throw err;
  }
  return next;
}

export async function getDomain(db: Db, tenantId: string, domainId: string): Promise<Domain | undefined> {
  const res = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.domain(tenantId, domainId) }));
  return res.Item ? fromItem(res.Item) : undefined;
}

export async function requireDomain(db: Db, tenantId: string, domainId: string): Promise<Domain> {
  const d = await getDomain(db, tenantId, domainId);
  if (!d) throw new NotFoundError('Domain not found');
  return d;
}

export interface DomainPage {
  domains: Domain[];
  nextCursor?: string;
}

function cursorOf(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

function startKeyOf(cursor: string | undefined): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** A tenant's domains, oldest first (one Query of its partition). */
export async function listTenantDomains(db: Db, tenantId: string, opts: { limit: number; cursor?: string }): Promise<DomainPage> {
  const res = await db.doc.send(
    new QueryCommand({
      TableName: db.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenantId), ':prefix': keys.domainPrefix },
      Limit: opts.limit,
      ...(opts.cursor ? { ExclusiveStartKey: keys.domain(tenantId, opts.cursor) } : {}),
    }),
  );
  const domains = (res.Items ?? []).map(fromItem);
  const last = domains.at(-1);
  return { domains, ...(res.LastEvaluatedKey && last ? { nextCursor: last.id } : {}) };
}

/** Every tenant's domains (GSI1), optionally of one status, ordered by status then name. */
export async function listAllDomains(db: Db, opts: { status?: DomainStatus; limit: number; cursor?: string }): Promise<DomainPage> {
  const res = await db.doc.send(
    new QueryCommand({
      TableName: db.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: opts.status ? 'gsi1pk = :pk AND begins_with(gsi1sk, :status)' : 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.domainListPartition, ...(opts.status ? { ':status': `${opts.status}#` } : {}) },
      Limit: opts.limit,
      ...(startKeyOf(opts.cursor) ? { ExclusiveStartKey: startKeyOf(opts.cursor) } : {}),
    }),
  );
  const domains = (res.Items ?? []).map(fromItem);
  const nextCursor = cursorOf(res.LastEvaluatedKey);
  return { domains, ...(nextCursor ? { nextCursor } : {}) };
}

/** Pending domains whose check is due, oldest due first (one Query; the schedule's only read). */
export async function dueDomainChecks(db: Db, now: Date, limit: number): Promise<{ tenantId: string; domainId: string }[]> {
  const res = await db.doc.send(
    new QueryCommand({
      TableName: db.tableName,
      KeyConditionExpression: 'pk = :pk AND sk <= :now',
      ExpressionAttributeValues: { ':pk': keys.domainCheckPartition, ':now': `${now.toISOString()}~` },
      Limit: limit,
    }),
  );
  return (res.Items ?? []).map((i) => ({ tenantId: String(i.tenantId), domainId: String(i.domainId) }));
}

/**
 * Whether the one-tenant rule refuses `domain` to `tenantId` (one BatchGet): another tenant
 * claimed the name or a parent, or holds claims below the name. (Claims below a parent are
 * siblings, which do not conflict.) A fast answer only: claimDomain's transaction decides.
 */
export async function takenByAnother(db: Db, tenantId: string, d: Pick<Domain, 'domain' | 'registrable'>): Promise<boolean> {
  const items = await batchGetClaims(db, [d.domain, ...parentsOf(d)]);
  return items.some((i) => {
    if (i.claimedBy !== undefined && i.claimedBy !== tenantId) return true;
    return i.pk === keys.domainName(d.domain).pk && Number(i.descTotal ?? 0) - Number(i[belowCount(tenantId)] ?? 0) > 0;
  });
}

async function batchGetClaims(db: Db, names: readonly string[]): Promise<Record<string, unknown>[]> {
  if (names.length === 0) return [];
  let request: NonNullable<BatchGetCommandInput['RequestItems']> | undefined = { [db.tableName]: { Keys: names.map((n) => keys.domainName(n)) } };
  const items: Record<string, unknown>[] = [];
  // A handful of small keys: unprocessed ones are rare, retried at once a few times.
  for (let attempt = 0; request && attempt < 4; attempt++) {
    const res: BatchGetCommandOutput = await db.doc.send(new BatchGetCommand({ RequestItems: request }));
    items.push(...(res.Responses?.[db.tableName] ?? []));
    request = res.UnprocessedKeys && Object.keys(res.UnprocessedKeys).length ? res.UnprocessedKeys : undefined;
  }
  if (request) throw new InternalError('could not read the sending-domain claims');
  return items;
}

/**
 * Whether `tenantId` may send from a domain: one BatchGet of the claim items of the domain and
 * its parents (`coveringNames`); true when one of them is claimed by the tenant and verified.
 */
export async function hasVerifiedClaim(db: Db, tenantId: string, names: readonly string[]): Promise<boolean> {
  const items = await batchGetClaims(db, names);
  return items.some((i) => i.claimedBy === tenantId && i.status === 'verified');
}
