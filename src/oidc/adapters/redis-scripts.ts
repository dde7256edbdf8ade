/**
 * The Lua scripts of the Redis adapter (redis.ts): each runs atomically on the one hash tag of
 * its key, so they work unchanged on a single Redis and on Redis Cluster, except the two that
 * read a token's or a session's family, which the adapter uses on one connection only.
 */
import { createHash } from 'node:crypto';

export interface Script {
  source: string;
  sha: string;
}

const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });

// A revoked token keeps a `revoked` tombstone until its own expiry, so an upsert that added the
// token to its grant just before the revocation cannot write it afterwards. Returns the previous
// index fields so the caller can drop the indexes they no longer match.
export const UPSERT = script(`
if redis.call('HEXISTS', KEYS[1], 'revoked') == 1 then return false end
local previous = redis.call('HMGET', KEYS[1], 'grantId', 'uid', 'userCode')
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'payload', unpack(ARGV, 2))
if ARGV[1] ~= 'inf' then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end
return previous
`);

// Counts every use besides marking the first: 1 when this was the only one so far (GIVE_BACK).
export const CONSUME = script(`
if redis.call('HEXISTS', KEYS[1], 'payload') == 0 then return 0 end
redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1])
return redis.call('HINCRBY', KEYS[1], 'uses', 1)
`);

// Unspends what one request spent, only while no other request has used it since (it may have
// been handed tokens on the engine's earlier read).
export const GIVE_BACK = script(`
if redis.call('HGET', KEYS[1], 'uses') ~= '1' then return 0 end
return redis.call('HDEL', KEYS[1], 'consumed', 'uses')
`);

export const DESTROY = script(`
if redis.call('HEXISTS', KEYS[1], 'payload') == 0 then return false end
local previous = redis.call('HMGET', KEYS[1], 'grantId', 'uid', 'userCode')
redis.call('DEL', KEYS[1])
return previous
`);

// The set lives exactly as long as its longest-lived member; expired members are pruned so a
// long-lived grant with rotating refresh tokens does not grow without bound.
export const GRANT_ADD = script(`
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local now = redis.call('TIME')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now[1] * 1000 + math.floor(now[2] / 1000)))
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2]
if last == 'inf' then redis.call('PERSIST', KEYS[1]) elseif last then redis.call('PEXPIREAT', KEYS[1], last) end
`);

export const GRANT_TAKE = script(`
local members = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
redis.call('DEL', KEYS[1])
return members
`);

export const TOMBSTONE = script(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'revoked', '1')
if ARGV[1] ~= 'inf' then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end
`);

export const DELETE_IF_EQUAL = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
`);

// A token with its family in one round trip, for a single Redis only (the grant's and the
// session's keys are known only once the token is read): the engine asks for the grant next, and
// for the session by uid when the token ends with it.
export const FIND_FAMILY = script(`
local found = redis.call('HMGET', KEYS[1], 'payload', 'consumed')
if not found[1] then return false end
local token = cjson.decode(found[1])
local grant, session = false, false
if type(token.grantId) == 'string' then
  grant = redis.call('HGET', ARGV[1] .. 'Grant:{' .. token.grantId .. '}', 'payload')
end
if token.expiresWithSession == true and type(token.sessionUid) == 'string' then
  local id = redis.call('GET', ARGV[1] .. 'sessionUid:{' .. token.sessionUid .. '}')
  if id then session = redis.call('HGET', ARGV[1] .. 'Session:{' .. id .. '}', 'payload') end
end
return { found[1], found[2] or false, grant, session }
`);

// A session with the grant it holds for the site being signed in to (the authorization request's
// client_id), for a single Redis only: the engine reads that grant next, on every SSO hop.
export const FIND_SESSION = script(`
local payload = redis.call('HGET', KEYS[1], 'payload')
if not payload then return false end
local ok, session = pcall(cjson.decode, payload)
local held = ok and type(session.authorizations) == 'table' and session.authorizations[ARGV[2]]
local grant = false
if type(held) == 'table' and type(held.grantId) == 'string' then
  grant = redis.call('HGET', ARGV[1] .. 'Grant:{' .. held.grantId .. '}', 'payload')
end
return { payload, grant }
`);
