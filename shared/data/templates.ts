/**
 * Templates live in the tenant's partition (keys.template). The tenant item carries
 * `templatesUsed` (templates that exist) and `templatesActive`; every create, status change
 * and delete updates them in the same transaction as the template, so the dashboard reads
 * them from the tenant item without a query, and they can never drift.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../rules/errors';
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

function fromItem(item: Record<string, unknown>): Template {
  const { pk: _pk, sk: _sk, kind: _kind, ...rest } = item;
  return rest as unknown as Template;
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

/** A tenant's template; undefined when it does not exist or belongs to another tenant. */
export async function getTemplate(db: Db, tenantId: string, templateId: string): Promise<Template | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.template(tenantId, templateId) }));
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

/** Every template of a tenant (names for /v1/templates/stats); at most the plan's allocation. */
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
 * Applies changes. The write is conditioned on the status read just before, so a concurrent
 * status change cannot make `templatesActive` drift; on such a race it re-reads and retries.
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
    const current = await getTemplate(db, tenantId, templateId);
    if (!current) throw new NotFoundError('Template not found');
    const next: Template = { ...current, ...changes, updated_at: now.toISOString() };
    check?.(next);
    const activeDelta = (next.status === 'active' ? 1 : 0) - (current.status === 'active' ? 1 : 0);
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
      {
        Put: {
          TableName: db.tableName,
          Item: toItem(next),
          // updated_at too: the Put replaces the whole item, so a concurrent PATCH of another
          // field read before this one's write would otherwise be silently lost.
          ConditionExpression: 'attribute_exists(pk) AND #status = :old AND updated_at = :oldUpdated',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':old': current.status, ':oldUpdated': current.updated_at },
        },
      },
    ];
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
    const current = await getTemplate(db, tenantId, templateId);
    if (!current) throw new NotFoundError('Template not found');
    try {
      await db.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: db.tableName,
                Key: keys.template(tenantId, templateId),
                ConditionExpression: 'attribute_exists(pk) AND #status = :old',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':old': current.status },
              },
            },
            {
              Update: {
                TableName: db.tableName,
                Key: keys.tenant(tenantId),
                UpdateExpression: 'ADD templatesUsed :minusOne, templatesActive :active',
                ExpressionAttributeValues: { ':minusOne': -1, ':active': current.status === 'active' ? -1 : 0 },
              },
            },
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
