/** A benchmark table: printed as Markdown by bench/run.ts and written as JSON with --json. */
export interface BenchTable {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  /** Goals and whether each was met, printed under the table. */
  goals?: { goal: string; met: boolean; actual: string }[];
  notes?: string[];
}

function cell(v: string | number): string {
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(2);
  return v;
}

export function formatTable(t: BenchTable): string {
  const rows = [t.columns, ...t.rows.map((r) => r.map(cell))];
  const widths = t.columns.map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
  const line = (r: (string | number)[]) => `| ${r.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const out = [`### ${t.title}`, '', line(rows[0] ?? []), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`];
  for (const r of rows.slice(1)) out.push(line(r));
  for (const g of t.goals ?? []) out.push(`${g.met ? 'MET ' : 'MISS'}  ${g.goal} (actual: ${g.actual})`);
  for (const n of t.notes ?? []) out.push(`note: ${n}`);
  return out.join('\n');
}
