/**
 * Things done recently in this process, each remembered until its own deadline, so as not to do
 * them again (a release already recorded, a visit already noted). Bounded: past `limit` entries
 * the expired go, and if that is not enough, all of them (doing a thing twice is only a cost).
 *
 * @example
 *   const done = createRecentSet();
 *   if (!done.has(key)) { await record(); done.add(key, Date.now() + 60_000); }
 */
export function createRecentSet(limit = 50_000) {
  const until = new Map<string, number>();
  return {
    has: (key: string) => (until.get(key) ?? 0) > Date.now(),
    add(key: string, deadline: number) {
      if (until.size >= limit) {
        const now = Date.now();
        for (const [old, at] of until) if (at <= now) until.delete(old);
        if (until.size >= limit) until.clear();
      }
      until.set(key, deadline);
    },
  };
}
