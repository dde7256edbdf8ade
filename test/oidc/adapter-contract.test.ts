/**
 * oidc-provider's 7-method storage contract, one suite run on every backend the provider can
 * store its artifacts in: Redis, PostgreSQL and PGlite.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { sql } from 'kysely';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { createClient } from 'redis';
import type { Database } from '../../src/db/database.ts';
import { createRedisAdapter } from '../../src/oidc/adapters/redis.ts';
import { giveBackSpent, settleWrites } from '../../src/oidc/adapters/request-writes.ts';
import { createSqlAdapter, sweepExpiredArtifacts } from '../../src/oidc/adapters/sql.ts';
import { clearRedis, connectRedis, freshDatabase, redisPrefix } from '../helpers/databases.ts';
import { privateRedis } from '../helpers/servers.ts';
import { eventually } from '../helpers/wait.ts';

interface Backend {
  adapter(model: string): Adapter;
  /** Seconds until the stored artifact expires: null when it never does, undefined when absent. */
  expiresIn(model: string, id: string): Promise<number | null | undefined>;
  close(): Promise<void>;
}

const newId = () => randomUUID();
const epoch = () => Math.floor(Date.now() / 1000);
const token = (kind: string, extra: Partial<AdapterPayload> = {}): AdapterPayload => ({
  jti: newId(),
  kind,
  accountId: 'person-1',
  clientId: 'client-1',
  scope: 'openid profile',
  ...extra,
});

function adapterContract<B extends Backend>(name: string, open: () => Promise<B>): () => B {
  let opened: B | undefined;
  test.before(async () => {
    opened = await open();
  });
  test.after.always(async () => {
    await opened?.close();
  });
  const backend = () => {
    if (!opened) throw new Error(`${name} is not open`);
    return opened;
  };
  const adapter = (model: string) => backend().adapter(model);

  test(`${name}: upsert then find returns the payload, under its own model only`, async (t) => {
    const id = newId();
    const payload = token('AccessToken', { jti: id, grantId: newId(), amr: ['pwd'] });
    await adapter('AccessToken').upsert(id, payload, 60);
    t.deepEqual(await adapter('AccessToken').find(id), payload);
    t.is(await adapter('RefreshToken').find(id), undefined);
  });

  test(`${name}: find, findByUid and findByUserCode of unknown values return undefined`, async (t) => {
    t.is(await adapter('AccessToken').find(newId()), undefined);
    t.is(await adapter('Session').findByUid(newId()), undefined);
    t.is(await adapter('DeviceCode').findByUserCode('NONE-SUCH'), undefined);
  });

  test(`${name}: upsert stores the expiry it is given, or none`, async (t) => {
    const [expiring, lasting] = [newId(), newId()];
    await adapter('Interaction').upsert(expiring, { uid: expiring }, 3600);
    await adapter('Interaction').upsert(lasting, { uid: lasting });
    const seconds = await backend().expiresIn('Interaction', expiring);
    t.true(typeof seconds === 'number' && seconds > 3590 && seconds <= 3600, String(seconds));
    t.is(await backend().expiresIn('Interaction', lasting), null);
  });

  test(`${name}: expired artifacts are not found, by id, uid or user code`, async (t) => {
    const [session, device] = [newId(), newId()];
    const uid = newId();
    const userCode = `EXP-${newId().slice(0, 8)}`;
    await adapter('Session').upsert(session, { uid, accountId: 'person-1' }, 1);
    await adapter('DeviceCode').upsert(device, token('DeviceCode', { userCode }), 1);
    t.truthy(await adapter('Session').findByUid(uid));
    await sleep(1200);
    t.is(await adapter('Session').find(session), undefined);
    t.is(await adapter('Session').findByUid(uid), undefined);
    t.is(await adapter('DeviceCode').find(device), undefined);
    t.is(await adapter('DeviceCode').findByUserCode(userCode), undefined);
  });

  test(`${name}: consume marks the artifact consumed at the current epoch second, and twice is harmless`, async (t) => {
    const id = newId();
    const payload = token('AuthorizationCode', { grantId: newId() });
    await adapter('AuthorizationCode').upsert(id, payload, 60);
    const before = epoch();
    await adapter('AuthorizationCode').consume(id);
    const after = epoch();
    const consumed = await adapter('AuthorizationCode').find(id);
    t.true(
      typeof consumed?.consumed === 'number' && consumed.consumed >= before && consumed.consumed <= after,
    );
    t.deepEqual(consumed, { ...payload, consumed: consumed?.consumed });

    await adapter('AuthorizationCode').consume(id);
    t.deepEqual(await adapter('AuthorizationCode').find(id), consumed);

    const unknown = newId();
    await adapter('AuthorizationCode').consume(unknown);
    t.is(await adapter('AuthorizationCode').find(unknown), undefined);
  });

  test(`${name}: destroy removes the artifact and what its indexes find`, async (t) => {
    const [session, device] = [newId(), newId()];
    const uid = newId();
    const userCode = `DST-${newId().slice(0, 8)}`;
    await adapter('Session').upsert(session, { uid, accountId: 'person-1' }, 60);
    await adapter('DeviceCode').upsert(device, token('DeviceCode', { userCode, grantId: newId() }), 60);
    await adapter('Session').destroy(session);
    await adapter('DeviceCode').destroy(device);
    t.is(await adapter('Session').find(session), undefined);
    t.is(await adapter('Session').findByUid(uid), undefined);
    t.is(await adapter('DeviceCode').find(device), undefined);
    t.is(await adapter('DeviceCode').findByUserCode(userCode), undefined);
    await t.notThrowsAsync(adapter('Session').destroy(newId()));
  });

  test(`${name}: revokeByGrantId removes every token of the grant and nothing else`, async (t) => {
    const [grant, other] = [newId(), newId()];
    const userCode = `RVK-${newId().slice(0, 8)}`;
    const revoked = [
      ['AccessToken', newId(), token('AccessToken', { grantId: grant })],
      ['RefreshToken', newId(), token('RefreshToken', { grantId: grant })],
      ['AuthorizationCode', newId(), token('AuthorizationCode', { grantId: grant })],
      ['DeviceCode', newId(), token('DeviceCode', { grantId: grant, userCode })],
      [
        'BackchannelAuthenticationRequest',
        newId(),
        token('BackchannelAuthenticationRequest', { grantId: grant }),
      ],
    ] as const;
    const kept = [
      ['AccessToken', newId(), token('AccessToken', { grantId: other })],
      ['RefreshToken', newId(), token('RefreshToken', { grantId: other })],
      // An interaction names the grant it produced but is not one of the grant's tokens.
      ['Interaction', newId(), { uid: 'interaction', grantId: grant }],
    ] as const;
    for (const [model, id, payload] of [...revoked, ...kept]) await adapter(model).upsert(id, payload, 60);

    await adapter('AccessToken').revokeByGrantId(grant);

    for (const [model, id] of revoked) t.is(await adapter(model).find(id), undefined, model);
    t.is(await adapter('DeviceCode').findByUserCode(userCode), undefined);
    for (const [model, id, payload] of kept) t.deepEqual(await adapter(model).find(id), payload, model);
  });

  test(`${name}: a grant's new tokens are stored after its earlier tokens were revoked`, async (t) => {
    // The revocation endpoint revokes an access token's siblings but keeps the grant itself.
    const grant = newId();
    await adapter('AccessToken').upsert(newId(), token('AccessToken', { grantId: grant }), 60);
    await adapter('AccessToken').revokeByGrantId(grant);
    const id = newId();
    const payload = token('AccessToken', { grantId: grant });
    await adapter('AccessToken').upsert(id, payload, 60);
    t.deepEqual(await adapter('AccessToken').find(id), payload);
  });

  test(`${name}: findByUid finds the session with that uid`, async (t) => {
    const [first, second] = [newId(), newId()];
    const [uid1, uid2] = [newId(), newId()];
    await adapter('Session').upsert(first, { uid: uid1, accountId: 'person-1' }, 60);
    await adapter('Session').upsert(second, { uid: uid2, accountId: 'person-2' }, 60);
    t.deepEqual(await adapter('Session').findByUid(uid1), { uid: uid1, accountId: 'person-1' });
    t.deepEqual(await adapter('Session').findByUid(uid2), { uid: uid2, accountId: 'person-2' });
  });

  test(`${name}: findByUserCode finds the device code with that user code`, async (t) => {
    const id = newId();
    const userCode = `UC-${newId().slice(0, 8)}`;
    const payload = token('DeviceCode', { userCode, deviceInfo: { ip: '192.0.2.1', ua: 'tv' } });
    await adapter('DeviceCode').upsert(id, payload, 600);
    t.deepEqual(await adapter('DeviceCode').findByUserCode(userCode), payload);
    t.is(await adapter('DeviceCode').findByUserCode(`${userCode}X`), undefined);
  });

  test(`${name}: upsert overwrites the payload and moves its indexes`, async (t) => {
    const [session, device, access] = [newId(), newId(), newId()];
    const [uid1, uid2] = [newId(), newId()];
    const [code1, code2] = [`OW1-${newId().slice(0, 8)}`, `OW2-${newId().slice(0, 8)}`];
    const [grant1, grant2] = [newId(), newId()];
    await adapter('Session').upsert(session, { uid: uid1, accountId: 'person-1' }, 60);
    await adapter('Session').upsert(
      session,
      { uid: uid2, accountId: 'person-1', acr: 'urn:yitong:acr:mfa' },
      60,
    );
    await adapter('DeviceCode').upsert(device, token('DeviceCode', { userCode: code1 }), 60);
    await adapter('DeviceCode').upsert(device, token('DeviceCode', { userCode: code2, grantId: grant2 }), 60);
    await adapter('AccessToken').upsert(access, token('AccessToken', { grantId: grant1 }), 60);
    await adapter('AccessToken').upsert(access, token('AccessToken', { grantId: grant2, jti: access }), 60);

    t.is(await adapter('Session').findByUid(uid1), undefined);
    t.deepEqual(await adapter('Session').findByUid(uid2), {
      uid: uid2,
      accountId: 'person-1',
      acr: 'urn:yitong:acr:mfa',
    });
    t.is(await adapter('DeviceCode').findByUserCode(code1), undefined);
    t.is((await adapter('DeviceCode').findByUserCode(code2))?.grantId, grant2);

    await adapter('AccessToken').revokeByGrantId(grant1);
    t.is((await adapter('AccessToken').find(access))?.jti, access);
    await adapter('AccessToken').revokeByGrantId(grant2);
    t.is(await adapter('AccessToken').find(access), undefined);
    t.is(await adapter('DeviceCode').find(device), undefined);
  });

  return backend;
}

const prefix = redisPrefix();
const redisBackend = adapterContract('redis', async () => {
  const redis = await connectRedis();
  return {
    redis,
    adapter: createRedisAdapter(redis, prefix, { oneConnection: true }),
    async expiresIn(model: string, id: string) {
      const ms = await redis.pTTL(`${prefix}${model}:{${id}}`);
      return ms === -2 ? undefined : ms === -1 ? null : ms / 1000;
    },
    async close() {
      await clearRedis(redis, prefix);
      await redis.close();
    },
  };
});

function sqlBackend(database: Database, dispose: () => Promise<void>) {
  return {
    db: database.db,
    adapter: createSqlAdapter(database.db),
    async expiresIn(model, id) {
      const row = await database.db
        .selectFrom('oidc_artifacts')
        .select(sql<number | null>`extract(epoch from expires_at - now())::float8`.as('seconds'))
        .where('model', '=', model)
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? row.seconds : undefined;
    },
    close: dispose,
  } satisfies Backend & { db: Database['db'] };
}

for (const kind of ['postgres', 'pglite'] as const) {
  const backend = adapterContract(kind, async () => {
    const fresh = await freshDatabase(kind);
    return sqlBackend(fresh.database, fresh.dispose);
  });

  test(`${kind}: sweepExpiredArtifacts deletes rows expired more than a minute ago, and only those`, async (t) => {
    const adapter = backend().adapter('AccessToken');
    const [stale, recent, live] = [newId(), newId(), newId()];
    await adapter.upsert(stale, token('AccessToken'), -120);
    await adapter.upsert(recent, token('AccessToken'), -10);
    await adapter.upsert(live, token('AccessToken'), 60);
    t.is(await sweepExpiredArtifacts(backend().db), 1);
    t.is(await backend().expiresIn('AccessToken', stale), undefined);
    t.true(((await backend().expiresIn('AccessToken', recent)) ?? 0) < 0);
    t.truthy(await adapter.find(live));
  });
}

test('redis: every key carries the hash tag of the id it is about', async (t) => {
  const { redis } = redisBackend();
  const own = `${prefix}layout:`;
  const adapter = createRedisAdapter(redis, own);
  const [session, uid, device, userCode, access, grant] = [
    newId(),
    newId(),
    newId(),
    'TAG-CODE',
    newId(),
    newId(),
  ];
  await adapter('Session').upsert(session, { uid }, 60);
  await adapter('DeviceCode').upsert(device, token('DeviceCode', { userCode, grantId: grant }), 60);
  await adapter('AccessToken').upsert(access, token('AccessToken', { grantId: grant }), 60);
  const keys = [];
  for await (const batch of redis.scanIterator({ MATCH: `${own}*` })) keys.push(...batch);
  t.deepEqual(
    keys.map((key) => key.slice(own.length)).sort(),
    [
      `AccessToken:{${access}}`,
      `DeviceCode:{${device}}`,
      `Session:{${session}}`,
      `grant:{${grant}}`,
      `sessionUid:{${uid}}`,
      `userCode:{${userCode}}`,
    ].sort(),
  );
});

test('redis: a grant set expires no earlier than its longest-lived token', async (t) => {
  const { redis, adapter } = redisBackend();
  const grant = newId();
  const [short, long] = [newId(), newId()];
  await adapter('AccessToken').upsert(short, token('AccessToken', { grantId: grant }), 60);
  await adapter('RefreshToken').upsert(long, token('RefreshToken', { grantId: grant }), 3600);
  await adapter('AuthorizationCode').upsert(newId(), token('AuthorizationCode', { grantId: grant }), 10);
  const grantTtl = await redis.pTTL(`${prefix}grant:{${grant}}`);
  const longTtl = await redis.pTTL(`${prefix}RefreshToken:{${long}}`);
  t.true(longTtl > 3_590_000, String(longTtl));
  t.true(grantTtl >= longTtl, `${grantTtl} < ${longTtl}`);
});

test('redis: a token write that lands after its grant was revoked stays revoked', async (t) => {
  // As if an upsert had added the token to its grant and the revocation ran before the token was written.
  const { redis, adapter } = redisBackend();
  const [grant, id] = [newId(), newId()];
  await redis.zAdd(`${prefix}grant:{${grant}}`, { score: Date.now() + 60_000, value: `AccessToken:${id}` });
  await adapter('AccessToken').revokeByGrantId(grant);
  await adapter('AccessToken').upsert(id, token('AccessToken', { grantId: grant }), 60);
  t.is(await adapter('AccessToken').find(id), undefined);
  const tombstoneTtl = await redis.pTTL(`${prefix}AccessToken:{${id}}`);
  t.true(tombstoneTtl > 0 && tombstoneTtl <= 60_000, String(tombstoneTtl));
});

test('redis on one connection: a token brings its grant and session along; a write or a destroy in between is never hidden', async (t) => {
  const { adapter } = redisBackend(); // one connection
  const [grant, session, uid, access] = [newId(), newId(), newId(), newId()];
  await adapter('Grant').upsert(grant, token('Grant', { jti: grant, openid: { scope: 'openid' } }), 60);
  await adapter('Session').upsert(session, { jti: session, uid, accountId: 'person-1' }, 60);
  await adapter('AccessToken').upsert(
    access,
    token('AccessToken', { jti: access, grantId: grant, sessionUid: uid, expiresWithSession: true }),
    60,
  );
  t.is((await adapter('AccessToken').find(access))?.jti, access);
  t.deepEqual((await adapter('Grant').find(grant))?.openid, { scope: 'openid' });
  t.is((await adapter('Session').findByUid(uid))?.jti, session);

  // Brought along again, then overtaken by a write and a destroy: the reads see those.
  await adapter('AccessToken').find(access);
  await adapter('Grant').upsert(
    grant,
    token('Grant', { jti: grant, openid: { scope: 'openid profile' } }),
    60,
  );
  await adapter('Session').destroy(session);
  t.deepEqual((await adapter('Grant').find(grant))?.openid, { scope: 'openid profile' });
  t.is(await adapter('Session').findByUid(uid), undefined);
  t.is(await adapter('AuthorizationCode').find(newId()), undefined, 'an unknown token brings nothing');
});

test('redis within a request: a session saved as it was read is not written again; a changed one is', async (t) => {
  const { redis } = redisBackend();
  let request: object | undefined;
  const adapter = createRedisAdapter(redis, prefix, { oneConnection: true, currentRequest: () => request });
  const [id, uid] = [newId(), newId()];
  const key = `${prefix}Session:{${id}}`;
  const session = { jti: id, uid, accountId: 'person-1', exp: epoch() + 60 };
  await adapter('Session').upsert(id, session, 60);

  request = {};
  const read = (await adapter('Session').find(id)) as AdapterPayload;
  // Another node ends the session meanwhile: the request's unchanged copy does not bring it back.
  await redis.del(key);
  await adapter('Session').upsert(id, read, 60);
  t.is(await redis.exists(key), 0);
  // A change is written.
  await adapter('Session').upsert(id, { ...read, acr: 'urn:yitong:acr:mfa' }, 60);
  t.is((await adapter('Session').find(id))?.acr, 'urn:yitong:acr:mfa');

  // Outside a request, or in another request, every save is written as before.
  for (const each of [undefined, {}]) {
    request = each;
    await redis.del(key);
    await adapter('Session').upsert(id, session, 60);
    t.deepEqual(await adapter('Session').find(id), session);
  }
});

test('redis on one connection: a session brings the grant it holds for the requested site', async (t) => {
  const { redis } = redisBackend();
  let request: { query?: Record<string, unknown> } | undefined;
  const adapter = createRedisAdapter(redis, prefix, { oneConnection: true, currentRequest: () => request });
  const [id, grant, other] = [newId(), newId(), newId()];
  const authorizations = { 'client-1': { sid: newId(), grantId: grant }, 'client-2': { grantId: other } };
  await adapter('Session').upsert(id, { jti: id, uid: newId(), accountId: 'person-1', authorizations }, 60);
  for (const each of [grant, other])
    await adapter('Grant').upsert(each, token('Grant', { jti: each, openid: { scope: 'openid' } }), 60);

  request = { query: { client_id: 'client-1' } };
  t.deepEqual((await adapter('Session').find(id))?.authorizations, authorizations);
  // Gone from Redis behind the adapter's back: found all the same, so it came with the session.
  await redis.del([`${prefix}Grant:{${grant}}`, `${prefix}Grant:{${other}}`]);
  t.is((await adapter('Grant').find(grant))?.jti, grant);
  t.is(await adapter('Grant').find(grant), undefined, 'brought once, for one read');
  t.is(await adapter('Grant').find(other), undefined, 'only the requested site’s grant');

  // A session without that site, or a request without a site, brings nothing and still reads.
  for (const query of [{ client_id: 'client-3' }, { client_id: ['client-1'] }, {}]) {
    request = { query };
    t.is((await adapter('Session').find(id))?.jti, id);
  }
});

test('redis within a request: writes go out at once and are settled together; its reads wait for them', async (t) => {
  const server = await privateRedis((fn) => t.teardown(fn));
  const redis = createClient({ url: server.url });
  await redis.connect();
  t.teardown(() => redis.destroy());
  const request = {};
  let current: object | undefined = request;
  const adapter = createRedisAdapter(redis, prefix, { oneConnection: true, currentRequest: () => current });
  const [code, access] = [newId(), newId()];
  const pending = (promise: Promise<unknown>) => {
    const state = { done: false };
    void promise.then(() => (state.done = true));
    return state;
  };

  // Redis hangs: nothing can be answered, yet the engine goes on after each write.
  server.pause();
  await adapter('AuthorizationCode').upsert(code, token('AuthorizationCode', { jti: code }), 60);
  await adapter('AuthorizationCode').consume(code);
  await adapter('AccessToken').upsert(access, token('AccessToken', { jti: access }), 60);
  // The request's own read waits for its writes.
  const read = adapter('AccessToken').find(access);
  const reading = pending(read);
  await sleep(150);
  t.false(reading.done);
  server.resume();
  t.is((await read)?.jti, access);
  t.truthy((await adapter('AuthorizationCode').find(code))?.consumed);

  // After settleWrites (the answer is leaving), and outside any request, a write waits for Redis.
  for (const each of [request, undefined]) {
    await settleWrites(request);
    current = each;
    server.pause();
    const destroyed = pending(adapter('AccessToken').destroy(access));
    await sleep(150);
    t.false(destroyed.done);
    server.resume();
    t.true(await eventually('the write, once Redis answers', () => destroyed.done, 5000));
  }
});

test('redis within a request: a write that failed fails the request’s next read and its settleWrites', async (t) => {
  const redis = await connectRedis();
  const request = {};
  const adapter = createRedisAdapter(redis, prefix, { oneConnection: true, currentRequest: () => request });
  const id = newId();
  redis.destroy();
  await adapter('AuthorizationCode').consume(id);
  await t.throwsAsync(adapter('AuthorizationCode').find(id), { message: 'The client is closed' });
  await adapter('AccessToken').upsert(id, token('AccessToken', { jti: id }), 60);
  await t.throwsAsync(settleWrites(request), { message: 'The client is closed' });
  await t.notThrowsAsync(settleWrites(request), 'reported once');
});

test('a use given back (its request answered 503) is unspent again, unless another request used it since', async (t) => {
  const { database, dispose } = await freshDatabase('pglite');
  t.teardown(dispose);
  const { redis } = redisBackend();
  let current: object | undefined;
  const adapters = {
    redis: createRedisAdapter(redis, prefix, { currentRequest: () => current }),
    pglite: createSqlAdapter(database.db, { currentRequest: () => current }),
  };
  for (const [name, adapter] of Object.entries(adapters)) {
    const use = async (request: object, id: string) => {
      current = request;
      await adapter('AuthorizationCode').consume(id);
      await settleWrites(request);
      current = undefined;
    };
    const [alone, shared] = [newId(), newId()];
    for (const id of [alone, shared])
      await adapter('AuthorizationCode').upsert(id, token('AuthorizationCode'), 60);
    const [first, second] = [{}, {}];
    await use(first, alone);
    t.truthy((await adapter('AuthorizationCode').find(alone))?.consumed, name);
    await giveBackSpent(first);
    t.is((await adapter('AuthorizationCode').find(alone))?.consumed, undefined, `${name}: given back`);
    await use({}, alone);
    t.truthy((await adapter('AuthorizationCode').find(alone))?.consumed, `${name}: and spent by the retry`);

    // Two requests read it unspent; the second's use does not spend it again, yet the engine may
    // hand it tokens: the first's 503 gives back nothing, and neither can the second.
    await use(first, shared);
    await use(second, shared);
    await giveBackSpent(first);
    await giveBackSpent(second);
    t.truthy((await adapter('AuthorizationCode').find(shared))?.consumed, `${name}: stays spent`);
  }
});
