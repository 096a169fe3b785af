/** The keyset start: below every uuid. */
const FIRST_UUID = "00000000-0000-0000-0000-000000000000";

/**
 * Pages through ids in keyset order (never one huge query: each page starts after the last id of the one
 * before) and hands them on in batches of `sendBatchSize`, a page's batches at once, for competing
 * consumers. Returns how many ids it handed on.
 */
export async function fanOutKeyset(
  page: (after: string, limit: number) => Promise<string[]>,
  publishBatch: (ids: string[]) => Promise<unknown>,
  sizes: { pageSize: number; sendBatchSize: number },
): Promise<number> {
  let after = FIRST_UUID;
  let total = 0;
  for (;;) {
    const ids = await page(after, sizes.pageSize);
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += sizes.sendBatchSize) {
      batches.push(ids.slice(i, i + sizes.sendBatchSize));
    }
    await Promise.all(batches.map(publishBatch));
    total += ids.length;
    const last = ids.at(-1);
    if (!last || ids.length < sizes.pageSize) {
      return total;
    }
    after = last;
  }
}
