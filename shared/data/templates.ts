/**
 * Templates live in the tenant's partition (keys.template). The tenant item carries
 * `templatesUsed` (templates that exist) and `templatesActive`; every create, status change
 * and delete updates them in the same transaction as the template, so the dashboard reads
 * them from the tenant item without a query, and they can never drift.
 *
 * A template item holds its bodies (up to ~300 KB), and a read is billed for the whole item
 * whatever it projects. So the template's name is also kept on its small use-count item
 * (keys.counterTemplate, `templateName`; `templateDeleted` once deleted), in the same
 * transactions: template stats read names and use counts with one Query of small items.
 *
 * Every write increments `version`; an update or delete is conditioned on the version it read
 * (items written before versions existed have none and count as version 0).
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type BatchGetCommandOutput, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { ConflictError, InternalError, NotFoundError } from '../rules/errors';
import { ulid } from '../rules/ids';
import type { Db } from './db';
import { ItemKind, keys } from './keys';

export const TEMPLATE_STATUSES = ['active', 'inactive'] as const;
export type TemplateStatus = (typeof TEMPLATE_STATUSES)[number];

export interface Template {
  id: string;
  tenantId: string;
  name: string;
  subject: string;
  html?: string;
  text?: string;
  status: TemplateStatus;
  created_at: string;
  updated_at: string;
  /** Incremented on every write; the optimistic lock of updates and deletes. */
  version: number;
}

export interface NewTemplate {
  name: string;
  subject: string;
  html?: string;
  text?: string;
  status?: TemplateStatus;
}

export type TemplateChanges = Partial<Pick<Template, 'name' | 'subject' | 'html' | 'text' | 'status'>>;

function toItem(t: Template) {
  return { ...keys.template(t.tenantId, t.id), kind: ItemKind.Template, ...t };
}

const templateItem = z.object({
  kind: z.literal(ItemKind.Template),
  id: z.string().min(1),
  tenantId: z.string().min(1),
  name: z.string(),
  subject: z.string(),
  html: z.string().optional(),
  text: z.string().optional(),
  status: z.enum(TEMPLATE_STATUSES),
  created_at: z.string(),
  updated_at: z.string(),
  version: z.number().int().nonnegative().default(0),
});

/** A stored item that does not parse is a fault to report, never a value to pass on. */
function invalidItem(kind: string, item: Record<string, unknown>, error: z.ZodError): InternalError {
  const issues = error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`).join('; ');
  return new InternalError(`Stored ${kind} item ${String(item.pk)} ${String(item.sk)} is invalid: ${issues}`);
}

function fromItem(item: Record<string, unknown>): Template {
  const parsed = templateItem.safeParse(item);
  if (!parsed.success) throw invalidItem(ItemKind.Template, item, parsed.error);
  const { kind: _kind, ...template } = parsed.data;
  return template;
}

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;
type TransactItem = TransactItems[number];

/** The condition that the stored template is still the version read (absent = 0). */
function sameVersion(version: number) {
  return version === 0
    ? { ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#version)', ExpressionAttributeNames: { '#version': 'version' } }
    : { ConditionExpression: '#version = :version', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':version': version } };
}

/** The name copy on the template's use-count item (see the header); `null` marks it deleted. */
function useCountName(db: Db, tenantId: string, templateId: string, name: string | null): TransactItem {
  return {
    Update: {
      TableName: db.tableName,
      Key: keys.counterTemplate(tenantId, templateId),
      UpdateExpression:
        name === null
          ? 'SET #kind = if_not_exists(#kind, :kind), templateDeleted = :true REMOVE templateName'
          : 'SET #kind = if_not_exists(#kind, :kind), templateName = :name',
      ExpressionAttributeNames: { '#kind': 'kind' },
      ExpressionAttributeValues: name === null ? { ':kind': ItemKind.Counter, ':true': true } : { ':kind': ItemKind.Counter, ':name': name },
    },
  };
}

function cancellationReasons(err: unknown): (string | undefined)[] | undefined {
  if (err instanceof TransactionCanceledException) return (err.CancellationReasons ?? []).map((r) => r.Code);
  return undefined;
}

/**
 * Creates a template. `templatesLimit` is the tenant's allocation (its plan's templatesLimit);
 * the tenant item's condition enforces it atomically. Throws NotFoundError for an unknown
 * tenant and ConflictError when the allocation is used up.
 */
export async function createTemplate(
  db: Db,
  tenantId: string,
  input: NewTemplate,
  opts: { templatesLimit: number; now?: Date },
): Promise<Template> {
  const now = (opts.now ?? new Date()).toISOString();
  const template: Template = {
    id: ulid(),
    tenantId,
    name: input.name,
    subject: input.subject,
    ...(input.html !== undefined ? { html: input.html } : {}),
    ...(input.text !== undefined ? { text: input.text } : {}),
    status: input.status ?? 'active',
    created_at: now,
    updated_at: now,
    version: 1,
  };
  const write = new TransactWriteCommand({
    TransactItems: [
      { Put: { TableName: db.tableName, Item: toItem(template), ConditionExpression: 'attribute_not_exists(pk)' } },
      {
        Update: {
          TableName: db.tableName,
          Key: keys.tenant(tenantId),
          UpdateExpression: 'ADD templatesUsed :one, templatesActive :active',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(templatesUsed) OR templatesUsed < :limit)',
          ExpressionAttributeValues: { ':one': 1, ':active': template.status === 'active' ? 1 : 0, ':limit': opts.templatesLimit },
        },
      },
      useCountName(db, tenantId, template.id, template.name),
    ],
  });
  for (let attempt = 0; ; attempt++) {
    try {
      await db.doc.send(write);
      return template;
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (reasons?.[1] === 'ConditionalCheckFailed') {
        const tenant = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.tenant(tenantId) }));
        if (!tenant.Item) throw new NotFoundError('Tenant not found');
        throw new ConflictError(`Template allocation of ${opts.templatesLimit} is used up; delete a template first`);
      }
      // Concurrent creates contend on the tenant item's counts; a conflict is worth a retry.
      if (reasons?.includes('TransactionConflict') && attempt < MAX_ATTEMPTS) continue;
      throw err;
    }
  }
}

/**
 * A tenant's template; undefined when it does not exist or belongs to another tenant.
 * `consistent`: a strongly consistent read (what an update is about to condition on).
 */
export async function getTemplate(
  db: Db,
  tenantId: string,
  templateId: string,
  opts: { consistent?: boolean } = {},
): Promise<Template | undefined> {
  const out = await db.doc.send(
    new GetCommand({ TableName: db.tableName, Key: keys.template(tenantId, templateId), ConsistentRead: opts.consistent }),
  );
  return out.Item ? fromItem(out.Item) : undefined;
}

/** A tenant's templates, oldest first (ids are ULIDs). `cursor` is the last id of the previous page. */
export async function listTemplates(
  db: Db,
  tenantId: string,
  opts: { limit: number; cursor?: string },
): Promise<{ templates: Template[]; nextCursor?: string }> {
  const out = await db.doc.send(
    new QueryCommand({
      TableName: db.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenantId), ':prefix': keys.templatePrefix },
      ExclusiveStartKey: opts.cursor ? keys.template(tenantId, opts.cursor) : undefined,
      Limit: opts.limit,
    }),
  );
  const templates = (out.Items ?? []).map(fromItem);
  const last = templates[templates.length - 1];
  return { templates, nextCursor: out.LastEvaluatedKey && last ? last.id : undefined };
}

/** Every template of a tenant, bodies included; at most the plan's allocation. */
export async function listAllTemplates(db: Db, tenantId: string): Promise<Template[]> {
  const all: Template[] = [];
  let cursor: string | undefined;
  do {
    const page = await listTemplates(db, tenantId, { limit: 1000, cursor });
    all.push(...page.templates);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

const MAX_ATTEMPTS = 5;

/** A concurrent change of the same template (condition failed, or a transaction conflict): re-read and retry. */
function isRetryable(reasons: (string | undefined)[] | undefined): boolean {
  return reasons?.some((r) => r === 'ConditionalCheckFailed' || r === 'TransactionConflict') ?? false;
}

/**
 * Applies changes. The write is conditioned on the version read just before (so neither a
 * concurrent change of another field nor a status change that `templatesActive` follows can be
 * lost, even when both started in the same millisecond); on such a race it re-reads and retries.
 * `check` sees the merged template before it is written (a PATCH of one field can make the whole
 * template too large, which only the merged result shows).
 */
export async function updateTemplate(
  db: Db,
  tenantId: string,
  templateId: string,
  changes: TemplateChanges,
  now: Date = new Date(),
  check?: (next: Template) => void,
): Promise<Template> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await getTemplate(db, tenantId, templateId, { consistent: true });
    if (!current) throw new NotFoundError('Template not found');
    const next: Template = { ...current, ...changes, updated_at: now.toISOString(), version: current.version + 1 };
    check?.(next);
    const activeDelta = (next.status === 'active' ? 1 : 0) - (current.status === 'active' ? 1 : 0);
    const items: TransactItems = [{ Put: { TableName: db.tableName, Item: toItem(next), ...sameVersion(current.version) } }];
    if (activeDelta !== 0) {
      items.push({
        Update: {
          TableName: db.tableName,
          Key: keys.tenant(tenantId),
          UpdateExpression: 'ADD templatesActive :d',
          ExpressionAttributeValues: { ':d': activeDelta },
        },
      });
    }
    // A template from before versions has no name on its use-count item yet: this write adds it.
    if (next.name !== current.name || current.version === 0) items.push(useCountName(db, tenantId, templateId, next.name));
    try {
      await db.doc.send(new TransactWriteCommand({ TransactItems: items }));
      return next;
    } catch (err) {
      if (isRetryable(cancellationReasons(err))) continue;
      throw err;
    }
  }
  throw new ConflictError('Template is being changed concurrently; retry');
}

/** Deletes a template and decrements the tenant's counts. Throws NotFoundError when absent. */
export async function deleteTemplate(db: Db, tenantId: string, templateId: string): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await getTemplate(db, tenantId, templateId, { consistent: true });
    if (!current) throw new NotFoundError('Template not found');
    try {
      await db.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              // The version read: the status it decrements templatesActive by is still the stored one.
              Delete: { TableName: db.tableName, Key: keys.template(tenantId, templateId), ...sameVersion(current.version) },
            },
            {
              Update: {
                TableName: db.tableName,
                Key: keys.tenant(tenantId),
                UpdateExpression: 'ADD templatesUsed :minusOne, templatesActive :active',
                ExpressionAttributeValues: { ':minusOne': -1, ':active': current.status === 'active' ? -1 : 0 },
              },
            },
            useCountName(db, tenantId, templateId, null),
          ],
        }),
      );
      return;
    } catch (err) {
      if (isRetryable(cancellationReasons(err))) continue;
      throw err;
    }
  }
  throw new ConflictError('Template is being changed concurrently; retry');
}

/** How often a template was used (emails sent through it); `name` is set when it still exists. */
export interface TemplateUse {
  id: string;
  useCount: number;
  name?: string;
}

const useCountItem = z.object({
  sk: z.string().startsWith(keys.counterTemplatePrefix),
  useCount: z.number().int().nonnegative().default(0),
  templateName: z.string().optional(),
  templateDeleted: z.literal(true).optional(),
});

const nameOnlyItem = z.object({ id: z.string().min(1), name: z.string() });

/**
 * Every template's use count with the names of those that exist, for /v1/templates/stats:
 * one Query of the small use-count items, never a template body. Templates written before
 * names were kept there (used, neither named nor marked deleted) are looked up by key; any
 * later write of such a template adds the name.
 */
export async function readTemplateUses(db: Db, tenantId: string): Promise<TemplateUse[]> {
  const uses: TemplateUse[] = [];
  const unnamed: TemplateUse[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ProjectionExpression: 'pk, sk, useCount, templateName, templateDeleted',
        ExpressionAttributeValues: { ':pk': keys.counterPartition(tenantId), ':prefix': keys.counterTemplatePrefix },
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const parsed = useCountItem.safeParse(item);
      if (!parsed.success) throw invalidItem('template use count', item, parsed.error);
      const { sk, useCount, templateName, templateDeleted } = parsed.data;
      const use: TemplateUse = { id: sk.slice(keys.counterTemplatePrefix.length), useCount };
      if (templateName !== undefined) use.name = templateName;
      else if (!templateDeleted && useCount > 0) unnamed.push(use);
      uses.push(use);
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  if (unnamed.length > 0) {
    const names = await namesByKey(db, tenantId, unnamed.map((u) => u.id));
    for (const use of unnamed) {
      const name = names.get(use.id);
      if (name !== undefined) use.name = name;
    }
  }
  return uses;
}

/** Names of existing templates by id (BatchGetItem, 100 keys a request, unprocessed keys retried). */
async function namesByKey(db: Db, tenantId: string, ids: string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 100) {
    let keysLeft: Record<string, unknown>[] | undefined = ids.slice(i, i + 100).map((id) => ({ ...keys.template(tenantId, id) }));
    for (let attempt = 0; keysLeft && keysLeft.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      const out: BatchGetCommandOutput = await db.doc.send(
        new BatchGetCommand({
          RequestItems: { [db.tableName]: { Keys: keysLeft, ProjectionExpression: 'pk, sk, id, #name', ExpressionAttributeNames: { '#name': 'name' } } },
        }),
      );
      for (const item of out.Responses?.[db.tableName] ?? []) {
        const parsed = nameOnlyItem.safeParse(item);
        if (!parsed.success) throw invalidItem(ItemKind.Template, item, parsed.error);
        names.set(parsed.data.id, parsed.data.name);
      }
      keysLeft = out.UnprocessedKeys?.[db.tableName]?.Keys;
    }
  }
  return names;
}
