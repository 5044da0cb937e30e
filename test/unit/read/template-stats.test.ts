import { describe, expect, it } from 'vitest';
import type { Template } from '../../../shared/data/templates';
import { computeTemplateStats } from '../../../shared/use-cases/read/template-stats';

const t = (id: string, name: string): Template => ({
  id,
  tenantId: 'T',
  name,
  subject: 's',
  text: 'x',
  status: 'active',
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  version: 1,
});

describe('template stats', () => {
  it('totals every use (deleted templates too) and ranks existing templates', () => {
    const uses = new Map([
      ['A', 5],
      ['B', 50],
      ['GONE', 7],
      ['C', 0],
    ]);
    const s = computeTemplateStats(uses, [t('A', 'welcome'), t('B', 'receipt'), t('C', 'unused'), t('D', 'never')]);
    expect(s.totalEmailsSentViaTemplates).toBe(62);
    expect(s.mostUsed).toEqual([
      { id: 'B', name: 'receipt', use_count: 50 },
      { id: 'A', name: 'welcome', use_count: 5 },
    ]);
  });

  it('keeps the ten most used', () => {
    const templates = Array.from({ length: 12 }, (_, i) => t(`T${String(i).padStart(2, '0')}`, `n${i}`));
    const uses = new Map(templates.map((x, i) => [x.id, i + 1]));
    const s = computeTemplateStats(uses, templates);
    expect(s.mostUsed).toHaveLength(10);
    expect(s.mostUsed[0]).toEqual({ id: 'T11', name: 'n11', use_count: 12 });
    expect(s.mostUsed.at(-1)?.use_count).toBe(3);
  });
});
