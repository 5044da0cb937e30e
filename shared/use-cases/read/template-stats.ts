/**
 * GET /v1/templates/stats (seed 000): emails sent through templates (every template ever used,
 * deleted ones included) and the most used existing templates. Two requests.
 */

// Response shapes are the SDK's (sdk/types.ts), which a test pins to docs/openapi.yaml; the
// server builds exactly what the client reads, with no second copy to drift.
import type { TemplateStats } from '../../../sdk/types';
import { readTemplateUseCounts } from '../../data/counters';
import type { Db } from '../../data/db';
import { listAllTemplates, type Template } from '../../data/templates';

export type { TemplateStats };

export const MOST_USED = 10;

export function computeTemplateStats(useCounts: ReadonlyMap<string, number>, templates: readonly Template[]): TemplateStats {
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
  const [useCounts, templates] = await Promise.all([readTemplateUseCounts(db, tenantId), listAllTemplates(db, tenantId)]);
  return computeTemplateStats(useCounts, templates);
}
