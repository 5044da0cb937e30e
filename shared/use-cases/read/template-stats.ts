/**
 * GET /v1/templates/stats (seed 000): emails sent through templates (every template ever used,
 * deleted ones included) and the most used existing templates. One Query of the templates'
 * small use-count items, which carry the names too: no template body is read.
 */

// Response shapes are the contract's (shared/contract), written once for the router, OpenAPI and the SDK.
import type { TemplateStats } from '../../contract/templates';
import type { Db } from '../../data/db';
import { readTemplateUses, type Template } from '../../data/templates';

export type { TemplateStats };

export const MOST_USED = 10;

export function computeTemplateStats(
  useCounts: ReadonlyMap<string, number>,
  templates: readonly Pick<Template, 'id' | 'name'>[],
): TemplateStats {
  let total = 0;
  for (const n of useCounts.values()) total += n;
  const mostUsed = templates
    .map((t) => ({ id: t.id, name: t.name, use_count: useCounts.get(t.id) ?? 0 }))
    .filter((t) => t.use_count > 0)
    .sort((a, b) => b.use_count - a.use_count || a.id.localeCompare(b.id))
    .slice(0, MOST_USED);
  return { totalEmailsSentViaTemplates: total, mostUsed };
}

export async function getTemplateStats(db: Db, tenantId: string): Promise<TemplateStats> {
  const uses = await readTemplateUses(db, tenantId);
  const existing = uses.flatMap((u) => (u.name === undefined ? [] : [{ id: u.id, name: u.name }]));
  return computeTemplateStats(new Map(uses.map((u) => [u.id, u.useCount])), existing);
}
