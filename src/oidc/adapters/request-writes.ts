/**
 * The engine awaits every write to its store but never uses what one returns. Within one engine
 * request, a write is therefore sent and the engine goes on at once: a code's consumption, the
 * tokens it buys and the release row's commit travel together instead of one after another. The
 * request's own reads wait for its writes first, and `settleWrites` (awaited by `outageAnswer`
 * before the answer leaves) waits for all of them and throws the first that failed, so nothing
 * is handed out before it is stored. Outside a request, or once it has answered, a write is
 * awaited by its caller as usual.
 *
 * @example
 *   const { write, read } = requestWrites(() => Provider.ctx);
 *   const adapter = { upsert: (id, payload, ttl) => write(() => store(id, payload, ttl)), find: (id) => read(() => load(id)) };
 *   // in the middleware around the engine: await next(); await settleWrites(ctx);
 */

/** Each engine request's writes not yet seen answered, as one promise. */
const unsettled = new WeakMap<object, Promise<unknown>>();
/** Requests past `settleWrites`. */
const answered = new WeakSet<object>();

async function flush(request: object): Promise<void> {
  const pending = unsettled.get(request);
  if (!pending) return;
  try {
    await pending;
  } finally {
    if (unsettled.get(request) === pending) unsettled.delete(request);
  }
}

/** Waits for every write the request sent; throws the first that failed. */
export async function settleWrites(request: object): Promise<void> {
  answered.add(request);
  await flush(request);
}

export function requestWrites(currentRequest: () => object | undefined) {
  return {
    /** Sent at once inside an engine request (settled before it answers), else awaited. */
    write(send: () => Promise<unknown>): Promise<void> {
      const request = currentRequest();
      const sent = send();
      if (!request || answered.has(request)) return sent.then(() => undefined);
      const before = unsettled.get(request);
      const pending = before ? Promise.all([before, sent]) : sent;
      pending.catch(() => undefined); // thrown by the request's next read or by settleWrites
      unsettled.set(request, pending);
      return Promise.resolve();
    },
    /** Within a request, after the request's own writes (no extra promise when there are none). */
    read<T>(fetch: () => Promise<T>): Promise<T> {
      const request = currentRequest();
      return request && unsettled.has(request) ? flush(request).then(fetch) : fetch();
    },
  };
}

/** What each request spent first (a code, a refresh token, a pushed request), and how to give it back. */
const spentBy = new WeakMap<object, Array<() => Promise<unknown>>>();

/** Called by an adapter whose `consume` was the first use of what it consumed. */
export function noteSpent(request: object | undefined, giveBack: () => Promise<unknown>): void {
  if (request) spentBy.set(request, [...(spentBy.get(request) ?? []), giveBack]);
}

/**
 * A request answered 503 did nothing: what it spent first is unspent again, so the site's retry
 * is no reuse (which would revoke the person's grant). Not what another request has used since
 * (the adapters count uses): that one may have been handed tokens. With Redis or PostgreSQL
 * itself down this cannot be stored either, and it was likely never spent.
 */
export async function giveBackSpent(request: object): Promise<void> {
  const spent = spentBy.get(request) ?? [];
  spentBy.delete(request);
  await Promise.all(spent.map((giveBack) => giveBack().catch(() => undefined)));
}
