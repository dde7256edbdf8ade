/**
 * People read on the hot paths (UserInfo, the sign-on hop, the code exchange, introspection),
 * kept per process for a short while. Every change to a person, or to their ended sessions, is
 * NOTIFYed by a trigger (migration 0018) and each node drops its copy when it hears it; the node
 * that made the change drops it at once (`forget`). The cache serves only while this node hears
 * the changes (`follow`): with its LISTEN connection lost, every read goes to the database.
 *
 * @example
 *   const people = createPersonCache();
 *   people.follow(true); // once LISTENing
 *   const person = await people.get(id, () => repo.findPersonById(id));
 */
const TTL_MS = 30_000;
const LIMIT = 20_000;

export function createPersonCache<T>() {
  const entries = new Map<string, { until: number; value: Promise<T> }>();
  let following = false;
  // Bumped by every forget: a read begun before a change is not kept after it.
  let epoch = 0;
  const forget = (id?: string) => {
    epoch++;
    if (id === undefined) entries.clear();
    else entries.delete(id);
  };

  return {
    get(id: string, load: () => Promise<T>): Promise<T> {
      if (!following) return load();
      const now = Date.now();
      const hit = entries.get(id);
      if (hit && hit.until > now) return hit.value;
      if (entries.size >= LIMIT) entries.clear();
      const began = epoch;
      const value = load();
      entries.set(id, { until: now + TTL_MS, value });
      const drop = () => entries.get(id)?.value === value && entries.delete(id);
      value.then(() => epoch !== began && drop(), drop);
      return value;
    },
    /** One person changed (or, with no id, anything may have). */
    forget,
    /** Whether this node hears every change: caching only while it does. */
    follow(on: boolean) {
      following = on;
      forget();
    },
  };
}
