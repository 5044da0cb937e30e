/**
 * At most `limit` calls of `fn` in flight, over `items` in order. Stands in for `p-limit`
 * until the dependency is added (package.json had another change in flight).
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  });
  await Promise.all(workers);
}
