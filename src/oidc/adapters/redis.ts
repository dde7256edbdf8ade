/**
 * oidc-provider's artifacts (sessions, interactions, codes, tokens, grants …) in Redis. Every key
 * carries the hash tag of the one id it is about and no command spans two tags, so the adapter
 * runs unchanged on a single Redis and on Redis Cluster:
 *
 *   <prefix><Model>:{<id>}       hash: payload (JSON), consumed, grantId, uid, userCode; or revoked
 *   <prefix>grant:{<grantId>}    sorted set of "<Model>:<id>", scored by expiry (epoch ms, inf = none)
 *   <prefix>sessionUid:{<uid>}   the Session id
 *   <prefix>userCode:{<code>}    the DeviceCode id
 *
 * Index entries are verified against the artifact they point to when read, so a stale one is
 * harmless and only waits for its expiry.
 *
 * @example
 *   const adapter = createRedisAdapter(redis, 'yitong:');
 *   const provider = new Provider(issuer, { adapter });
 */
import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';
import type { createClient } from 'redis';
import { GRANTABLE_MODELS } from './grantable.ts';
import {
  CONSUME,
  DELETE_IF_EQUAL,
  DESTROY,
  FIND_FAMILY,
  FIND_SESSION,
  GIVE_BACK,
  GRANT_ADD,
  GRANT_TAKE,
  type Script,
  TOMBSTONE,
  UPSERT,
} from './redis-scripts.ts';
import { noteSpent, requestWrites } from './request-writes.ts';

export type RedisLike = Pick<
  ReturnType<typeof createClient>,
  'eval' | 'evalSha' | 'get' | 'hmGet' | 'set' | 'zRem'
>;

const GRANTABLE = new Set(GRANTABLE_MODELS);

/** Tokens whose grant and session the engine reads right after them. */
const FAMILY_HEADS = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken']);

/**
 * What FIND_FAMILY brought along, for the engine's next reads: taken once per read that brought
 * it (requests with the same token share the newest copy), within a second (no later than a read
 * of its own would have been, give or take that request's own steps).
 */
function createStash(ttlMs = 1000) {
  const entries = new Map<string, { at: number; payload: string; left: number }>();
  return {
    put(key: string, payload: string) {
      const now = Date.now();
      // Oldest first: drop what nobody took in time.
      for (const [old, entry] of entries) {
        if (now - entry.at < ttlMs) break;
        entries.delete(old);
      }
      const left = (entries.get(key)?.left ?? 0) + 1;
      entries.delete(key);
      entries.set(key, { at: now, payload, left });
    },
    /** Written or gone: what was brought along is no longer the latest. */
    drop(key: string) {
      entries.delete(key);
    },
    take(key: string): AdapterPayload | undefined {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (--entry.left === 0) entries.delete(key);
      return Date.now() - entry.at < ttlMs ? (JSON.parse(entry.payload) as AdapterPayload) : undefined;
    },
  };
}

type Indexes = [grantId: string | null, uid: string | null, userCode: string | null];

/** The request being served (the engine's context), when there is one. */
export type CurrentRequest = () => { query?: Record<string, unknown> } | undefined;

/**
 * `oneConnection`: every command goes down one connection (a single Redis, or Sentinel's
 * master), so Redis runs them in the order they were sent; a cluster spreads them over nodes.
 *
 * `currentRequest` (by default the engine's `Provider.ctx`) lets a request skip what it would do twice: the
 * engine saves the session at the end of every request that read it, changed or not, and a
 * session lives a fixed time from its sign-in (provider.ts, `ttl.Session`), so a save of exactly
 * what the same request read is not sent. A change another request made meanwhile (a logout on
 * another node) then stands instead of being overwritten by the stale copy. It also lets the
 * request's writes go out without waiting for each other (request-writes.ts).
 */
export function createRedisAdapter(
  redis: RedisLike,
  prefix = 'yitong:',
  { oneConnection = false, currentRequest = (() => Provider.ctx) as CurrentRequest } = {},
): (model: string) => Adapter {
  const grantKey = (grantId: string) => `${prefix}grant:{${grantId}}`;
  const uidKey = (uid: string) => `${prefix}sessionUid:{${uid}}`;
  const userCodeKey = (userCode: string) => `${prefix}userCode:{${userCode}}`;
  const artifactKey = (member: string) => {
    const colon = member.indexOf(':');
    return `${prefix}${member.slice(0, colon)}:{${member.slice(colon + 1)}}`;
  };

  async function run(script: Script, key: string, args: string[]): Promise<unknown> {
    const options = { keys: [key], arguments: args };
    try {
      return await redis.evalSha(script.sha, options);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(script.source, options);
    }
  }

  const { write, read } = requestWrites(currentRequest);
  const stash = createStash();
  /** The sessions each request read, as stored. */
  const sessionsRead = new WeakMap<object, Map<string, string>>();

  /** A session, and on one connection the grant it holds for the requested site (stashed). */
  async function findSession(key: string, id: string): Promise<AdapterPayload | undefined> {
    const request = currentRequest();
    const clientId = request?.query?.client_id;
    const [payload, grant] =
      oneConnection && typeof clientId === 'string'
        ? (((await run(FIND_SESSION, key, [prefix, clientId])) as [string, string | null] | null) ?? [])
        : ((await redis.hmGet(key, ['payload'])) as Array<string | null>);
    if (!payload) return undefined;
    const session = JSON.parse(payload) as AdapterPayload;
    const grantId = grant && session.authorizations?.[clientId as string]?.grantId;
    if (grantId) stash.put(`${prefix}Grant:{${grantId}}`, grant);
    if (request) sessionsRead.set(request, (sessionsRead.get(request) ?? new Map()).set(id, payload));
    return session;
  }

  /** A token, and (on one connection) its grant and session stashed for the reads that follow. */
  async function findHead(key: string): Promise<AdapterPayload | undefined> {
    if (!oneConnection) return findAt(key);
    const found = (await run(FIND_FAMILY, key, [prefix])) as
      | [string, string | null, string | null, string | null]
      | null;
    if (!found) return undefined;
    const [payload, consumed, grant, session] = found;
    const token = JSON.parse(payload) as AdapterPayload;
    if (consumed) token.consumed = Number(consumed);
    if (grant && token.grantId) stash.put(`${prefix}Grant:{${token.grantId}}`, grant);
    if (session && token.sessionUid) stash.put(uidKey(token.sessionUid), session);
    return token;
  }

  async function findAt(key: string): Promise<AdapterPayload | undefined> {
    const [payload, consumed] = (await redis.hmGet(key, ['payload', 'consumed'])) as Array<string | null>;
    if (!payload) return undefined;
    const found = JSON.parse(payload) as AdapterPayload;
    if (consumed) found.consumed = Number(consumed);
    return found;
  }

  return (model) => {
    const member = (id: string) => `${model}:${id}`;
    const keyOf = (id: string) => artifactKey(member(id));

    async function dropIndexes(id: string, [grantId, uid, userCode]: Indexes): Promise<void> {
      await Promise.all([
        grantId && redis.zRem(grantKey(grantId), member(id)),
        uid && run(DELETE_IF_EQUAL, uidKey(uid), [id]),
        userCode && run(DELETE_IF_EQUAL, userCodeKey(userCode), [id]),
      ]);
    }

    async function findVia(indexKey: string, check: (payload: AdapterPayload) => boolean) {
      const id = await redis.get(indexKey);
      const payload = id ? await findAt(keyOf(id)) : undefined;
      return payload && check(payload) ? payload : undefined;
    }

    const stored: Adapter = {
      async upsert(id, payload, expiresIn) {
        const json = JSON.stringify(payload);
        const request = model === 'Session' ? currentRequest() : undefined;
        if (request && sessionsRead.get(request)?.get(id) === json) return;
        // An absolute deadline: a write delayed by a reconnect still expires when it was meant to,
        // and the tombstone of a revoked token (which shares the deadline) outlives that write.
        const deadline = typeof expiresIn === 'number' ? Math.ceil(Date.now() + expiresIn * 1000) : undefined;
        const at = deadline === undefined ? 'inf' : String(deadline);
        const grantId = GRANTABLE.has(model) ? payload.grantId : undefined;
        const uid = model === 'Session' ? payload.uid : undefined;
        const { userCode } = payload;
        stash.drop(keyOf(id));
        if (uid) stash.drop(uidKey(uid));
        const index = (key: string) =>
          deadline === undefined
            ? redis.set(key, id)
            : redis.set(key, id, { expiration: { type: 'PXAT', value: deadline } });

        // Into the grant's set before the token exists, so revokeByGrantId can never miss it: on
        // one connection both are sent at once (Redis runs them in that order), else one by one.
        const added = grantId && run(GRANT_ADD, grantKey(grantId), [member(id), at]);
        if (!oneConnection) await added;
        const fields = [json];
        if (grantId) fields.push('grantId', grantId);
        if (uid) fields.push('uid', uid);
        if (userCode) fields.push('userCode', userCode);
        const [previous] = await Promise.all([
          run(UPSERT, keyOf(id), [at, ...fields]) as Promise<Indexes | null>,
          uid && index(uidKey(uid)),
          userCode && index(userCodeKey(userCode)),
          added,
        ]);
        if (!previous) return;
        const [oldGrantId, oldUid, oldUserCode] = previous;
        await dropIndexes(id, [
          oldGrantId !== grantId ? oldGrantId : null,
          oldUid !== uid ? oldUid : null,
          oldUserCode !== userCode ? oldUserCode : null,
        ]);
      },

      async find(id) {
        if (FAMILY_HEADS.has(model)) return findHead(keyOf(id));
        if (model === 'Session') return findSession(keyOf(id), id);
        return stash.take(keyOf(id)) ?? findAt(keyOf(id));
      },

      async findByUid(uid) {
        const stashed = stash.take(uidKey(uid));
        return stashed?.uid === uid ? stashed : findVia(uidKey(uid), (payload) => payload.uid === uid);
      },

      findByUserCode: (userCode) =>
        findVia(userCodeKey(userCode), (payload) => payload.userCode === userCode),

      async consume(id) {
        const uses = await run(CONSUME, keyOf(id), [String(Math.floor(Date.now() / 1000))]);
        if (uses === 1) noteSpent(currentRequest(), () => run(GIVE_BACK, keyOf(id), []));
      },

      async destroy(id) {
        stash.drop(keyOf(id));
        const previous = (await run(DESTROY, keyOf(id), [])) as Indexes | null;
        if (previous?.[1]) stash.drop(uidKey(previous[1]));
        if (previous) await dropIndexes(id, previous);
      },

      async revokeByGrantId(grantId) {
        const taken = (await run(GRANT_TAKE, grantKey(grantId), [])) as string[];
        const revocations = [];
        for (let i = 0; i < taken.length; i += 2) {
          revocations.push(run(TOMBSTONE, artifactKey(taken[i] as string), [taken[i + 1] as string]));
        }
        await Promise.all(revocations);
      },
    };
    return {
      upsert: (id, payload, expiresIn) => write(() => stored.upsert(id, payload, expiresIn)),
      consume: (id) => write(() => stored.consume(id)),
      destroy: (id) => write(() => stored.destroy(id)),
      revokeByGrantId: (grantId) => write(() => stored.revokeByGrantId(grantId)),
      find: (id) => read(() => stored.find(id)),
      findByUid: (uid) => read(() => stored.findByUid(uid)),
      findByUserCode: (userCode) => read(() => stored.findByUserCode(userCode)),
    };
  };
}
