import type { BenchTable } from './table';

/** Placeholder until this suite is written: says so instead of printing figures. */
export async function run(): Promise<BenchTable[]> {
  throw new Error('the ingest benchmark is not written yet');
}
