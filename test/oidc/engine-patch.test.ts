/**
 * `npm install` patches the engine (bin/patch-engine.mjs): a request's `ctx.oidc` must be a data
 * property, not an accessor with a closure of its own, which keeps every request alive through
 * young-generation collections (bench/RESULTS.md, sixth pass); a DPoP proof dated ahead must be
 * remembered until it expires. Fails after an install that skipped the patch (`--ignore-scripts`)
 * or an upgrade of the engine that lost it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import Provider, { type Adapter } from 'oidc-provider';

test('every engine route builds its request context as a data property, once', async (t) => {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const provider = new Provider('http://127.0.0.1', {
    jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig' }] },
  });
  const seen: Array<PropertyDescriptor | undefined> = [];
  provider.use(async (ctx, next) => {
    await next();
    seen.push(Object.getOwnPropertyDescriptor(ctx, 'oidc'));
  });
  const server = provider.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as { port: number };
    for (const path of ['/.well-known/openid-configuration', '/jwks', '/me'])
      await fetch(`http://127.0.0.1:${port}${path}`);
  } finally {
    server.close();
  }
  t.is(seen.length, 3);
  for (const descriptor of seen) {
    t.is(descriptor?.get, undefined);
    t.is(descriptor?.value?.constructor?.name, 'OIDCContext');
  }
});

test('a DPoP proof dated ahead is remembered until 300 s after its iat, not 300 s after its first use', async (t) => {
  const remembered: number[] = [];
  /** The engine's store, in a Map: what matters is how long it asks to keep a proof's jti. */
  class Store implements Adapter {
    static items = new Map<string, object>();
    name: string;
    constructor(name: string) {
      this.name = name;
    }
    async upsert(id: string, payload: object, expiresIn: number) {
      if (this.name === 'ReplayDetection') remembered.push(expiresIn);
      Store.items.set(`${this.name}:${id}`, payload);
    }
    async find(id: string) {
      return Store.items.get(`${this.name}:${id}`) as never;
    }
    async findByUserCode() {}
    async findByUid() {}
    async consume() {}
    async destroy(id: string) {
      Store.items.delete(`${this.name}:${id}`);
    }
    async revokeByGrantId() {}
  }
  const signing = await generateKeyPair('ES256', { extractable: true });
  const provider = new Provider('http://127.0.0.1', {
    adapter: Store,
    jwks: { keys: [{ ...(await exportJWK(signing.privateKey)), alg: 'ES256', use: 'sig' }] },
    clients: [
      {
        client_id: 'site',
        client_secret: 'secret',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        id_token_signed_response_alg: 'ES256',
      },
    ],
    features: { clientCredentials: { enabled: true }, dPoP: { enabled: true } },
  });
  const server = provider.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as { port: number };
    const endpoint = `http://127.0.0.1:${port}/token`;
    const proofKey = await generateKeyPair('ES256', { extractable: true });
    const proof = await new SignJWT({
      htm: 'POST',
      htu: endpoint,
      jti: 'one',
      iat: Math.floor(Date.now() / 1000) + 50,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(proofKey.publicKey) })
      .sign(proofKey.privateKey);
    const token = () =>
      fetch(endpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${btoa('site:secret')}`, dpop: proof },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
    t.is((await token()).status, 200);
    t.is((await token()).status, 400);
  } finally {
    server.close();
  }
  t.is(remembered.length, 1);
  t.true(Number(remembered[0]) >= 348, `remembered for ${remembered[0]} s`);
});

test('the patch changes a patched engine no further, every file or none, and refuses a file it does not know', async (t) => {
  const engine = new URL('../../node_modules/oidc-provider/', import.meta.url);
  const [initializeApp, validateDpop] = ['lib/helpers/initialize_app.js', 'lib/helpers/validate_dpop.js'];
  const files = [initializeApp, validateDpop, 'lib/models/client.js'];
  const root = await mkdtemp(join(tmpdir(), 'patch-engine-'));
  const copy = async () => {
    for (const dir of ['lib/helpers', 'lib/models']) await mkdir(join(root, dir), { recursive: true });
    for (const file of files)
      await writeFile(join(root, file), await readFile(new URL(file, engine), 'utf8'));
  };
  try {
    await copy();
    execFileSync(process.execPath, ['bin/patch-engine.mjs', root]);
    for (const file of files)
      t.is(await readFile(join(root, file), 'utf8'), await readFile(new URL(file, engine), 'utf8'));

    // One file the patch does not know and one it has not patched yet: neither is written.
    const unknown = 'export default function initializeApp() {}\n';
    await writeFile(join(root, initializeApp), unknown);
    const second = join(root, validateDpop);
    const unpatched = (await readFile(second, 'utf8')).replace(
      'Math.max(epochTime(), dPoP.iat) + CHALLENGE_OK_WINDOW, // yitong: bin/patch-engine.mjs',
      'epochTime() + CHALLENGE_OK_WINDOW,',
    );
    await writeFile(second, unpatched);
    const refused = spawnSync(process.execPath, ['bin/patch-engine.mjs', root], { encoding: 'utf8' });
    t.is(refused.status, 1);
    t.regex(refused.stderr, /initialize_app\.js is not the oidc-provider 9\.13\.3 it patches/);
    t.is(await readFile(join(root, initializeApp), 'utf8'), unknown);
    t.is(await readFile(second, 'utf8'), unpatched);
    t.not(unpatched, await readFile(new URL(validateDpop, engine), 'utf8'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
