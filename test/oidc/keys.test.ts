import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import {
  calculateJwkThumbprint,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  jwtVerify,
} from 'jose';
import { type Kysely, sql } from 'kysely';
import { createClientsRepo } from '../../src/clients/repo.ts';
import { notifyChange } from '../../src/db/changes.ts';
import { openDatabase } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import type { Schema } from '../../src/db/schema.ts';
import { createSealer } from '../../src/identity/crypto.ts';
import {
  listSigningKeys,
  loadSigningKeys,
  retireSigningKey,
  rotateSigningKeys,
  SigningKeyRefusedError,
  SigningKeysUnreadableError,
} from '../../src/oidc/keys.ts';
import { Browser } from '../helpers/browser.ts';
import { freshDatabase } from '../helpers/databases.ts';
import { newCitizen } from '../helpers/people.ts';
import {
  authorizationRequest,
  discoverSite,
  exchangeCode,
  REDIRECT_URI,
  walkAuthorization,
} from '../helpers/rp.ts';
import { eventually } from '../helpers/wait.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

const kidsOf = async (node: Yitong) =>
  ((await (await fetch(`${node.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map(
    (key) => key.kid,
  );

/** Two nodes on one database and the same secrets (each its own Redis prefix: each signs its own flows here). */
async function twoNodes(t: ExecutionContext): Promise<[Yitong, Yitong]> {
  const a = await startYitong('postgres');
  t.teardown(() => a.stop());
  const b = await startYitong('postgres', {
    DATABASE_URL: a.server.container.config.databaseUrl ?? '',
    SECRETS_FILE: join(a.server.container.config.dataDir, 'secrets.json'),
  });
  t.teardown(() => b.stop());
  return [a, b];
}

const publishedAlgs = async (node: Yitong) =>
  ((await (await fetch(`${node.issuer}/jwks`)).json()) as { keys: Array<{ alg?: string }> }).keys.map(
    (key) => key.alg,
  );

/** Every key's signing time two minutes earlier, in the same order: as if each switch were that long ago. */
const earlier = (db: Kysely<Schema>) =>
  sql`UPDATE signing_keys SET signs_from = signs_from - interval '2 minutes'`.execute(db);

test.serial(
  'an ES256, an RS256 and a PS256 key on first start, each naming its algorithm, stored sealed; a rotated key is published at once and signs from its time, the old ones still verify',
  async (t) => {
    const yitong = await startYitong('pglite');
    t.teardown(() => yitong.stop());
    const jwks = async () =>
      (await (await fetch(`${yitong.issuer}/jwks`)).json()) as { keys: Array<Record<string, string>> };

    const first = await jwks();
    t.is(first.keys.length, 2, 'the PS256 key is published only once a site signs PS256');
    const ec = first.keys.find((key) => key.kty === 'EC');
    t.like(ec, { kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    // One algorithm per key, named (RFC 8725 §3.1).
    t.deepEqual(
      first.keys.filter((key) => key.kty === 'RSA').map((key) => `${key.alg} ${key.use}`),
      ['RS256 sig'],
    );
    t.true(
      first.keys.every((key) => key.d === undefined && key.p === undefined),
      'no private part is published',
    );

    const { db } = yitong.server.container.database;
    const rows = await db.selectFrom('signing_keys').selectAll().execute();
    t.deepEqual(rows.map((row) => row.alg).sort(), ['ES256', 'PS256', 'RS256']);
    t.false(
      rows.some((row) => row.private_enc.toString('latin1').includes('"d"')),
      'the private keys are encrypted at rest',
    );

    const rotated = await rotateSigningKeys(db, yitong.server.container.sealer);
    t.deepEqual(
      rotated.added.map((key) => key.kind),
      ['ES256', 'RS256', 'PS256'],
    );
    const newKid = rotated.added[0]?.kid;
    await yitong.restart();
    const second = await jwks();
    t.is(second.keys.length, 4, 'a new key of each kind, published at once; the old ones still verify');
    t.true(second.keys.some((key) => key.kid === ec?.kid));

    const { clientId, clientSecret } = await yitong.addClient({
      client_name: '签名测试',
      department: '测试部门',
      region_code: '440100',
      redirect_uris: [REDIRECT_URI],
      scope: 'openid',
    });
    const person = newCitizen();
    await yitong.createCitizen(person);
    const site = await discoverSite(yitong.issuer, clientId, clientSecret);
    const browser = new Browser();
    const signedWith = async () => {
      const pending = await authorizationRequest(site, { scope: 'openid' });
      const walk = await walkAuthorization(browser, pending.url, person);
      return decodeProtectedHeader((await exchangeCode(site, walk.callbackUrl, pending)).id_token ?? '').kid;
    };
    t.is(await signedWith(), ec?.kid, 'the new key is published, not signing yet');
    // Its time has come (as it would a day later): the newest key signs.
    await yitong.server.container.database.db
      .updateTable('signing_keys')
      .set({ signs_from: new Date() })
      .where('kid', '=', newKid ?? '')
      .execute();
    await yitong.restart();
    t.is(await signedWith(), newKid, 'the newest key signs');

    const discovery = (await (
      await fetch(`${yitong.issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    t.deepEqual((discovery.id_token_signing_alg_values_supported as string[]).sort(), [
      'ES256',
      'PS256',
      'RS256',
    ]);
    t.deepEqual((discovery.userinfo_signing_alg_values_supported as string[]).sort(), [
      'ES256',
      'PS256',
      'RS256',
    ]);
    t.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
    // `none` serves only Yitong's own account page; a departmental manifest can register only `code`.
    t.deepEqual(discovery.response_types_supported, ['code', 'none']);
  },
);

test('/readyz is ready only with storage up and no migration pending; /healthz answers', async (t) => {
  const yitong = await startYitong('postgres');
  t.teardown(() => yitong.stop());
  const ready = await fetch(`${yitong.issuer}/readyz`);
  t.is(ready.status, 200);
  t.like(await ready.json(), { status: 'ready', checks: { database: 'ok', redis: 'ok', migrations: 'ok' } });
  t.is((await fetch(`${yitong.issuer}/healthz`)).status, 200);

  await yitong.server.container.database.db
    .deleteFrom('schema_migrations')
    .where('name', '=', '0001_init.sql')
    .execute();
  const pending = await fetch(`${yitong.issuer}/readyz`);
  t.is(pending.status, 503);
  t.like(await pending.json(), { status: 'not ready', checks: { migrations: 'pending: 0001_init.sql' } });

  yitong.server.container.redis?.destroy();
  const noRedis = await fetch(`${yitong.issuer}/readyz`);
  t.is(noRedis.status, 503);
  t.like(await noRedis.json(), { checks: { redis: 'unreachable' } });
});

test('a site that asks for RS256 or PS256 gets its ID token and signed UserInfo so, verifiable with the JWKS', async (t) => {
  const yitong = await startYitong('postgres');
  t.teardown(() => yitong.stop());
  const person = newCitizen();
  await yitong.createCitizen(person);
  for (const alg of ['RS256', 'PS256'] as const) {
    const { clientId, clientSecret } = await yitong.addClient({
      client_name: `${alg} 网站`,
      department: '测试部门',
      region_code: '440100',
      redirect_uris: [REDIRECT_URI],
      scope: 'openid profile',
      id_token_signed_response_alg: alg,
      userinfo_signed_response_alg: alg,
    });
    await eventually('a key of its algorithm is published', async () =>
      (await publishedAlgs(yitong)).includes(alg),
    );
    const jwks = createRemoteJWKSet(new URL(`${yitong.issuer}/jwks`));
    const site = await discoverSite(yitong.issuer, clientId, clientSecret);
    const pending = await authorizationRequest(site, { scope: 'openid profile' });
    const walk = await walkAuthorization(new Browser(), pending.url, person);
    const tokens = await exchangeCode(site, walk.callbackUrl, pending);
    const idToken = await jwtVerify(tokens.id_token ?? '', jwks, {
      issuer: yitong.issuer,
      audience: clientId,
    });
    t.is(idToken.protectedHeader.alg, alg);
    const userinfo = await fetch(`${yitong.issuer}/me`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    t.regex(userinfo.headers.get('content-type') ?? '', /^application\/jwt/);
    const signed = await jwtVerify(await userinfo.text(), jwks, {
      issuer: yitong.issuer,
      audience: clientId,
    });
    t.is(signed.protectedHeader.alg, alg);
    t.is(signed.payload.name, person.name);
  }
  // A site without a choice keeps ES256.
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '默认网站',
    department: '测试部门',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid',
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  const pending = await authorizationRequest(site, { scope: 'openid' });
  const walk = await walkAuthorization(new Browser(), pending.url, person);
  t.is(
    decodeProtectedHeader((await exchangeCode(site, walk.callbackUrl, pending)).id_token ?? '').alg,
    'ES256',
  );
});

test.serial(
  'discovery and the JWKS: the same bytes each time (a trailing slash too), with an ETag (304 when it matches, weakly, in a list, or `*`), caching allowed (GET, HEAD, 304), open to every origin',
  async (t) => {
    const yitong = await startYitong('pglite');
    t.teardown(() => yitong.stop());
    for (const path of ['/.well-known/openid-configuration', '/jwks']) {
      const first = await fetch(`${yitong.issuer}${path}`, {
        headers: { origin: 'https://a.example.gov.cn' },
      });
      const body = await first.text();
      const etag = first.headers.get('etag') ?? '';
      t.regex(etag, /^"[\w-]+"$/, path);
      t.is(first.headers.get('cache-control'), 'public, max-age=300');
      t.is(first.headers.get('access-control-allow-origin'), 'https://a.example.gov.cn');
      const second = await fetch(`${yitong.issuer}${path}`, {
        headers: { origin: 'https://b.example.gov.cn' },
      });
      t.is(await second.text(), body, 'the same bytes');
      t.is(
        second.headers.get('access-control-allow-origin'),
        'https://b.example.gov.cn',
        'each origin its own',
      );
      t.regex(second.headers.get('content-type') ?? '', /json/);
      t.is(second.headers.get('x-content-type-options'), 'nosniff', 'the headers every response carries');
      t.is(second.headers.get('x-frame-options'), 'DENY');
      const unchanged = await fetch(`${yitong.issuer}${path}`, { headers: { 'if-none-match': etag } });
      t.is(unchanged.status, 304);
      t.is(unchanged.headers.get('cache-control'), 'public, max-age=300');
      // RFC 9110 §13.1.2: the weak comparison (nginx's gzip weakens the tag), over a list, and `*`.
      for (const header of [`W/${etag}`, `"other", ${etag}`, '*']) {
        const answer = await fetch(`${yitong.issuer}${path}`, { headers: { 'if-none-match': header } });
        t.is(answer.status, 304, `${path} If-None-Match: ${header}`);
      }
      const changed = await fetch(`${yitong.issuer}${path}`, {
        headers: { 'if-none-match': '"other", W/"another"' },
      });
      t.is(changed.status, 200, 'no tag of the list matches');
      t.is(await changed.text(), body);
      const head = await fetch(`${yitong.issuer}${path}`, { method: 'HEAD' });
      t.is(head.status, 200);
      t.is(head.headers.get('cache-control'), 'public, max-age=300', 'a HEAD is told the same');
      t.is(head.headers.get('etag'), etag);
      // The engine answers it with a trailing slash too: the same page.
      const slash = await fetch(`${yitong.issuer}${path}/`);
      t.is(await slash.text(), body, `${path}/`);
      t.is(slash.headers.get('etag'), etag);
      t.is(slash.headers.get('cache-control'), 'public, max-age=300');
    }
    // A rotated key is a new instance: the JWKS changes, and so does its ETag.
    const before = (await fetch(`${yitong.issuer}/jwks`)).headers.get('etag');
    await rotateSigningKeys(yitong.server.container.database.db, yitong.server.container.sealer);
    await yitong.restart();
    const after = await fetch(`${yitong.issuer}/jwks`);
    t.not(after.headers.get('etag'), before);
    t.is(((await after.json()) as { keys: unknown[] }).keys.length, 4);
  },
);

test('a rotated key is published on every node at once, signs on none before its time, then on every node without a restart or another NOTIFY; a key retired anywhere leaves every JWKS', async (t) => {
  const nodes = await twoNodes(t);
  const [a, b] = nodes;
  const { db } = a.server.container.database;
  const { sealer } = a.server.container;

  const { clientId, clientSecret } = await a.addClient({
    client_name: '两个节点',
    department: '测试部门',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid',
  });
  const person = newCitizen();
  await a.createCitizen(person);
  /** An ID token from each node, in order. */
  const signers = await Promise.all(
    nodes.map(async (node) => {
      const site = await discoverSite(node.issuer, clientId, clientSecret);
      const browser = new Browser();
      return async () => {
        const pending = await authorizationRequest(site, { scope: 'openid' });
        const walk = await walkAuthorization(browser, pending.url, person);
        return (await exchangeCode(site, walk.callbackUrl, pending)).id_token ?? '';
      };
    }),
  );
  const signedBy = async () =>
    Promise.all(signers.map(async (sign) => decodeProtectedHeader(await sign()).kid));
  const oldToken = await (signers[0] as () => Promise<string>)();
  const old = decodeProtectedHeader(oldToken).kid ?? '';
  t.deepEqual(await signedBy(), [old, old]);

  // A planned rotation: a day before it signs.
  const planned = await rotateSigningKeys(db, sealer);
  const plannedKids = planned.added.map((key) => key.kid);
  t.true(planned.signsFrom.getTime() - Date.now() > 23 * 3600 * 1000, 'a day away');
  // All but PS256, which no site here signs with.
  const publishedKids = planned.added.filter((key) => key.kind !== 'PS256').map((key) => key.kid);
  await eventually('every node publishes the new keys', async () =>
    (await Promise.all(nodes.map(kidsOf))).every((kids) => publishedKids.every((kid) => kids.includes(kid))),
  );
  t.deepEqual(await signedBy(), [old, old], 'published, not signing yet');

  // Rotated again to sign in 2 s: the planned keys never signed and are withdrawn. The NOTIFY
  // comes now, while the keys are still next; nothing tells the nodes when the time comes.
  const soon = await rotateSigningKeys(db, sealer, { delaySeconds: 2 });
  t.deepEqual(soon.withdrawn.sort(), plannedKids.sort());
  const kid = soon.added[0]?.kid ?? '';
  await eventually('every node switches to the new key at its time', async () => {
    const tokens = await Promise.all(signers.map((sign) => sign()));
    for (const token of tokens)
      if (decodeProtectedHeader(token).kid === kid)
        t.true(
          (decodeJwt(token).iat ?? 0) * 1000 >= soon.signsFrom.getTime() - 1000,
          'no token signed with it before its time',
        );
    return tokens.every((token) => decodeProtectedHeader(token).kid === kid);
  });
  for (const kids of await Promise.all(nodes.map(kidsOf))) {
    t.true(kids.includes(old), 'the replaced key still verifies');
    t.false(
      plannedKids.some((withdrawn) => kids.includes(withdrawn)),
      'the withdrawn keys are gone',
    );
  }

  // Retired through node A's database: node B hears it (NOTIFY) and drops it from its JWKS too.
  await t.throwsAsync(retireSigningKey(db, kid), {
    instanceOf: SigningKeyRefusedError,
    message: /is the ES256 key that signs now and cannot be retired: rotate first/,
  });
  await t.throwsAsync(retireSigningKey(db, 'A'.repeat(43)), {
    instanceOf: SigningKeyRefusedError,
    message: /^no signing key has the kid A{43}/,
  });
  // Replaced seconds ago: a node may not have switched yet. Some minutes later it may go.
  await t.throwsAsync(retireSigningKey(db, old), {
    instanceOf: SigningKeyRefusedError,
    message: /stopped signing \d+ s ago and a node may not have switched yet: retire it in \d+ s/,
  });
  await earlier(db);
  t.like(await retireSigningKey(db, old), { kid: old, kind: 'ES256', state: 'verifying' });
  await eventually('no node publishes the retired key', async () =>
    (await Promise.all(nodes.map(kidsOf))).every((kids) => !kids.includes(old)),
  );
  await t.throwsAsync(jwtVerify(oldToken, createRemoteJWKSet(new URL(`${b.issuer}/jwks`))), {
    code: 'ERR_JWKS_NO_MATCHING_KEY',
  });
  t.deepEqual(await signedBy(), [kid, kid]);
  const audit = await db
    .selectFrom('audit_events')
    .select('action')
    .where('action', 'like', 'keys.%')
    .orderBy('seq')
    .execute();
  t.deepEqual(
    audit.map((row) => row.action),
    ['keys.rotated', 'keys.rotated', 'keys.retired'],
  );
});

test('the PS256 keys are in every node’s JWKS while an enabled site signs PS256 and an ID token’s lifetime after, and only then: with none, every key is ES256 or RS256, all google-oauth-java-client reads', async (t) => {
  const [a, b] = await twoNodes(t);
  const everyNode = (what: string, holds: (algs: Array<string | undefined>) => boolean) =>
    eventually(what, async () => (await Promise.all([a, b].map(publishedAlgs))).every(holds));
  const withoutPs256 = (algs: Array<string | undefined>) =>
    algs.every((alg) => alg === 'ES256' || alg === 'RS256');

  t.true(withoutPs256(await publishedAlgs(a)));
  t.true(withoutPs256(await publishedAlgs(b)));
  const discovery = (await (await fetch(`${b.issuer}/.well-known/openid-configuration`)).json()) as {
    id_token_signing_alg_values_supported: string[];
  };
  t.true(discovery.id_token_signing_alg_values_supported.includes('PS256'), 'still offered to sites');

  // A site registered through node A: node B publishes the key too, and its ID tokens verify there.
  const manifest = {
    client_name: 'PS256 网站',
    department: '测试部门',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid',
    id_token_signed_response_alg: 'PS256',
  };
  const { clientId, clientSecret } = await a.addClient(manifest);
  await everyNode('every node publishes the PS256 key', (algs) => algs.includes('PS256'));
  const person = newCitizen();
  await a.createCitizen(person);
  const site = await discoverSite(b.issuer, clientId, clientSecret);
  const pending = await authorizationRequest(site, { scope: 'openid' });
  const walk = await walkAuthorization(new Browser(), pending.url, person);
  const { id_token } = await exchangeCode(site, walk.callbackUrl, pending);
  const verified = await jwtVerify(id_token ?? '', createRemoteJWKSet(new URL(`${b.issuer}/jwks`)));
  t.is(verified.protectedHeader.alg, 'PS256');
  const ps256 = async () =>
    (await listSigningKeys(a.server.container.database.db))
      .filter((key) => key.kind === 'PS256')
      .map((key) => key.published);
  t.deepEqual(await ps256(), [true], '`keys list` says so');

  // Its ID tokens moved to ES256, its signed UserInfo to PS256: still needed.
  await a.addClient({
    ...manifest,
    client_id: clientId,
    id_token_signed_response_alg: 'ES256',
    userinfo_signed_response_alg: 'PS256',
  });
  await b.restart();
  t.true((await publishedAlgs(b)).includes('PS256'), 'read again from the sites');
  // Disabled: no enabled site signs PS256. The key stays an ID token's lifetime, for the tokens it signed.
  const { db } = a.server.container.database;
  const engine = a.server.container.provider.Client;
  await a.server.container.clientsRepo.disable(clientId);
  await eventually('the withdrawal is recorded', async () =>
    Boolean(
      await db
        .selectFrom('signing_keys')
        .select('kid')
        .where(
          sql<boolean>`published_until BETWEEN now() + interval '59 minutes' AND now() + interval '1 hour'`,
        )
        .executeTakeFirst(),
    ),
  );
  await b.restart();
  t.true((await publishedAlgs(b)).includes('PS256'), 'still published');
  await jwtVerify(id_token ?? '', createRemoteJWKSet(new URL(`${b.issuer}/jwks`)));
  // As if that hour were all but over: every node withdraws it at its time, with no NOTIFY, at
  // every path the engine answers the JWKS at.
  await sql`UPDATE signing_keys SET published_until = now() + interval '2 seconds' WHERE alg = 'PS256'`.execute(
    db,
  );
  await notifyChange(db, { kind: 'keys' });
  await everyNode('no node publishes a PS256 key', withoutPs256);
  t.is(a.server.container.provider.Client, engine, 'the same engine: only the JWKS changed');
  t.deepEqual(await ps256(), [false], 'kept, to be published again when a site needs it');
  const slash = (await (await fetch(`${b.issuer}/jwks/`)).json()) as { keys: Array<{ alg: string }> };
  t.true(withoutPs256(slash.keys.map((key) => key.alg)));
});

test.serial(
  'keys list: a rotated key is next, signs from its time, and the one it replaced verifies for a session length, then is retirable',
  async (t) => {
    const { database, dispose } = await freshDatabase('pglite');
    t.teardown(dispose);
    const { db } = database;
    const sealer = createSealer(randomBytes(32), randomBytes(32));
    const first = await loadSigningKeys(db, sealer);
    t.is(first.keys.length, 3, 'generated on first start');
    t.is(first.nextChangeInMs, undefined, 'nothing to wait for');
    const kids = first.keys.map((key) => key.kid);
    const { added } = await rotateSigningKeys(db, sealer);
    const states = async () => (await listSigningKeys(db)).map(({ kid, kind, state }) => [kid, kind, state]);
    const [ec, rs, ps] = added.map((key) => key.kid);
    const [oldEc, oldPs, oldRs] = kids;
    t.deepEqual(await states(), [
      [ec, 'ES256', 'next'],
      [ps, 'PS256', 'next'],
      [rs, 'RS256', 'next'],
      [oldEc, 'ES256', 'signing'],
      [oldPs, 'PS256', 'signing'],
      [oldRs, 'RS256', 'signing'],
    ]);
    const staged = await loadSigningKeys(db, sealer);
    t.deepEqual(
      staged.keys.map((key) => key.kid),
      [...kids, ec, ps, rs],
      'the engine holds the new keys after the signing ones: it signs with the first that fits',
    );
    t.true(Math.abs((staged.nextChangeInMs ?? 0) - 24 * 3600 * 1000) < 60_000, 'load again in a day');

    // A day and a second pass.
    const later = (interval: string) =>
      sql`UPDATE signing_keys SET signs_from = signs_from - ${interval}::interval`.execute(db);
    await later('24 hours 1 second');
    t.deepEqual(
      (await states()).map(([, , state]) => state),
      ['signing', 'signing', 'signing', 'verifying', 'verifying', 'verifying'],
    );
    t.deepEqual(
      (await loadSigningKeys(db, sealer)).keys.map((key) => key.kid),
      [ec, ps, rs, ...kids],
    );
    await later('12 hours');
    t.deepEqual(
      (await states()).map(([, , state]) => state),
      ['signing', 'signing', 'signing', 'retirable', 'retirable', 'retirable'],
    );
  },
);

test.serial(
  'a change to a site tells every node; it asks for the keys again only when the site starts or stops needing the PS256 ones',
  async (t) => {
    const { database, dispose } = await freshDatabase('pglite');
    t.teardown(dispose);
    const heard: Array<boolean | undefined> = [];
    await database.listen(
      (change) => change.kind === 'client' && heard.push(change.signing),
      () => {},
      () => {},
    );
    const sites = createClientsRepo(database.db);
    const site = (id: string, metadata: Record<string, unknown>) =>
      sites.upsertClient({
        id,
        department: '测试部门',
        regionCode: '440100',
        metadata: { client_name: id, ...metadata },
        secretHash: null,
        adminDesignated: false,
      });
    await site('es', { id_token_signed_response_alg: 'ES256' });
    await site('ps', { userinfo_signed_response_alg: 'PS256' });
    await site('ps', { userinfo_signed_response_alg: 'PS256', client_name: '改名' });
    await site('ps', { id_token_signed_response_alg: 'PS256' });
    await sites.disable('ps');
    await site('ps2', { id_token_signed_response_alg: 'PS256' });
    await sql`DELETE FROM clients WHERE id = 'es'`.execute(database.db);
    await sql`DELETE FROM clients WHERE id = 'ps2'`.execute(database.db);
    await eventually('every change heard', () => heard.length === 8);
    t.deepEqual(heard, [false, true, false, false, true, true, false, true]);
  },
);

test.serial('migration 0020: the keys stored before it sign from their creation, as they did', async (t) => {
  const database = await openDatabase({ pgliteDir: 'memory://' });
  t.teardown(() => database.close());
  const dir = new URL('../../migrations/', import.meta.url);
  const before = (await readdir(dir)).filter((name) => /^00(0\d|1\d)_[\w-]+\.sql$/.test(name)).sort();
  for (const name of before) await database.applyMigration(name, await readFile(new URL(name, dir), 'utf8'));
  const created = new Date(Date.now() - 30 * 24 * 3600 * 1000);
  await database.db
    .insertInto('signing_keys')
    .values({ kid: 'k', alg: 'ES256', private_enc: Buffer.from('sealed'), created_at: created })
    .execute();
  t.is((await migrate(database))[0], '0020_signing_key_stages.sql');
  const row = await database.db.selectFrom('signing_keys').selectAll().executeTakeFirstOrThrow();
  t.deepEqual(row.signs_from, created);
});

/** As stored before one algorithm per key: one RSA key, its JWK naming none, its row's kind `RSA`. */
async function storeLegacyRsa(db: Kysely<Schema>, sealer: ReturnType<typeof createSealer>) {
  const rsa = await exportJWK(
    (await generateKeyPair('RS256', { modulusLength: 2048, extractable: true })).privateKey,
  );
  const kid = await calculateJwkThumbprint(rsa);
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('signing_keys').where('alg', 'in', ['RS256', 'PS256']).execute();
    await trx
      .insertInto('signing_keys')
      .values({ kid, alg: 'RSA', private_enc: sealer.seal(JSON.stringify({ ...rsa, kid, use: 'sig' })) })
      .execute();
  });
  return kid;
}

test('a database from before one algorithm per key: its RSA key signs RS256, and PS256 until a PS256 key published a day ahead signs; it names RS256 once the tokens it signed with PS256 are past use', async (t) => {
  const yitong = await startYitong('postgres');
  t.teardown(() => yitong.stop());
  // Read anew after each restart.
  const db = () => yitong.server.container.database.db;
  const { sealer } = yitong.server.container;
  const legacy = await storeLegacyRsa(db(), sealer);
  await yitong.restart();

  const person = newCitizen();
  await yitong.createCitizen(person);
  const sites = new Map<string, Awaited<ReturnType<typeof discoverSite>>>();
  for (const alg of ['RS256', 'PS256']) {
    const { clientId, clientSecret } = await yitong.addClient({
      client_name: `${alg} 网站`,
      department: '测试部门',
      region_code: '440100',
      redirect_uris: [REDIRECT_URI],
      scope: 'openid',
      id_token_signed_response_alg: alg,
    });
    sites.set(alg, await discoverSite(yitong.issuer, clientId, clientSecret));
  }
  const browser = new Browser();
  const signedBy = async (alg: string) => {
    const site = sites.get(alg) as Awaited<ReturnType<typeof discoverSite>>;
    const pending = await authorizationRequest(site, { scope: 'openid' });
    const walk = await walkAuthorization(browser, pending.url, person);
    const { id_token } = await exchangeCode(site, walk.callbackUrl, pending);
    await jwtVerify(id_token ?? '', createRemoteJWKSet(new URL(`${yitong.issuer}/jwks`)));
    return decodeProtectedHeader(id_token ?? '').kid;
  };
  const published = async () =>
    ((await (await fetch(`${yitong.issuer}/jwks`)).json()) as { keys: Array<Record<string, string>> }).keys;
  const later = async (kid: string, seconds: number) => {
    await sql`UPDATE signing_keys SET signs_from = now() - make_interval(secs => ${seconds}) WHERE kid = ${kid}`.execute(
      db(),
    );
    await yitong.restart();
  };

  const keys = await listSigningKeys(db());
  const ps = keys.find((key) => key.kind === 'PS256')?.kid ?? '';
  t.like(
    keys.find((key) => key.kid === ps),
    { state: 'next' },
    'a PS256 key is made and published, not signing yet',
  );
  t.true(
    Math.abs((keys.find((key) => key.kid === ps)?.signsFrom.getTime() ?? 0) - Date.now() - 24 * 3600 * 1000) <
      60_000,
    'it signs in a day',
  );
  t.like(
    keys.find((key) => key.kid === legacy),
    { kind: 'RSA', state: 'signing' },
  );
  t.is(keys.length, 3, 'no RS256 key beside it');
  const row = await db()
    .selectFrom('signing_keys')
    .select('private_enc')
    .where('kid', '=', ps)
    .executeTakeFirstOrThrow();
  t.deepEqual(
    JSON.parse(sealer.open(row.private_enc)).key_ops,
    ['verify'],
    'stored to verify only: no node signs with it early, not even an older release',
  );
  // Published, as a site signs PS256.
  await eventually('the PS256 key is published', async () =>
    (await published()).some((key) => key.kid === ps),
  );
  const before = await published();
  t.is(before.find((key) => key.kid === legacy)?.alg, undefined);
  t.deepEqual(before.find((key) => key.kid === ps)?.key_ops, ['verify']);
  t.is(await signedBy('RS256'), legacy);
  t.is(await signedBy('PS256'), legacy, 'until then the RSA key signs PS256, as before');

  // A day later the PS256 key signs; the RSA key still verifies the PS256 tokens it signed.
  await later(ps, 0);
  t.is(await signedBy('PS256'), ps);
  t.is(await signedBy('RS256'), legacy);
  const during = await published();
  t.is(during.find((key) => key.kid === ps)?.key_ops, undefined);
  t.is(during.find((key) => key.kid === legacy)?.alg, undefined);
  // A session length after that, no token it signed with PS256 is in use: it names RS256.
  await later(ps, 12 * 3600 + 1);
  t.true(
    (await published()).every((key) => key.alg),
    'every key names its algorithm',
  );
  t.is((await published()).find((key) => key.kid === legacy)?.alg, 'RS256');
  t.is(await signedBy('RS256'), legacy);
  t.is((await listSigningKeys(db())).length, 3, 'nothing more is made');
});

test.serial(
  'a database from before, opened with another data key: nothing is added; its RSA key is not retired while it alone signs PS256',
  async (t) => {
    const { database, dispose } = await freshDatabase('pglite');
    t.teardown(dispose);
    const { db } = database;
    const sealer = createSealer(randomBytes(32), randomBytes(32));
    await loadSigningKeys(db, sealer);
    const legacy = await storeLegacyRsa(db, sealer);
    await sql`UPDATE signing_keys SET signs_from = now() - interval '30 days'`.execute(db);
    const count = async () => (await db.selectFrom('signing_keys').select('kid').execute()).length;

    await t.throwsAsync(loadSigningKeys(db, createSealer(randomBytes(32), randomBytes(32))), {
      instanceOf: SigningKeysUnreadableError,
    });
    t.is(await count(), 2, 'no PS256 key sealed with the wrong data key');

    await loadSigningKeys(db, sealer);
    t.is(await count(), 3, 'with the right one, the PS256 key is made');
    // A rotation whose RS256 key signs before its PS256 key does: the RSA key still signs PS256.
    const { added } = await rotateSigningKeys(db, sealer);
    const rs = added.find((key) => key.kind === 'RS256')?.kid ?? '';
    await sql`UPDATE signing_keys SET signs_from = now() - interval '2 minutes' WHERE kid = ${rs}`.execute(
      db,
    );
    t.like(
      (await listSigningKeys(db)).find((key) => key.kid === legacy),
      { state: 'verifying' },
    );
    await t.throwsAsync(retireSigningKey(db, legacy), {
      instanceOf: SigningKeyRefusedError,
      message: /is the RSA key that still signs PS256: retire it once a PS256 key signs/,
    });
  },
);
