/**
 * Numbers items for a format that refers to them by integer id (MIDOG image/category ids,
 * SlideRunner uids). Keeps each item's own sourceId when it is a positive integer not taken by
 * an earlier item, so a file read and written again keeps its ids; the rest get fresh ids above
 * the largest kept one.
 */
export function assignSourceIds(items: ReadonlyArray<{ sourceId?: number }>): number[] {
  const taken = new Set<number>();
  const ids: Array<number | undefined> = items.map((item) => {
    const wanted = item.sourceId;
    if (wanted === undefined || !Number.isSafeInteger(wanted) || wanted < 1 || taken.has(wanted)) return undefined;
    taken.add(wanted);
    return wanted;
  });
  let next = 1;
  for (const id of taken) next = Math.max(next, id + 1); // no spread: bundles may hold a million cells

  return ids.map((id) => id ?? next++);
}
