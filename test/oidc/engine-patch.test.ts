/**
 * `npm install` patches the engine (bin/patch-engine.mjs): a request's `ctx.oidc` must be a data
 * property, not an accessor with a closure of its own, which keeps every request alive through
 * young-generation collections (bench/RESULTS.md, sixth pass). Fails after an install that skipped
 * the patch (`--ignore-scripts`) or an upgrade of the engine that lost it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

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

test('the patch changes a patched engine no further, and refuses a file it does not know', async (t) => {
  const engine = new URL('../../node_modules/oidc-provider/lib/helpers/initialize_app.js', import.meta.url);
  const dir = await mkdtemp(join(tmpdir(), 'patch-engine-'));
  try {
    const patched = join(dir, 'patched.js');
    await writeFile(patched, await readFile(engine, 'utf8'));
    execFileSync(process.execPath, ['bin/patch-engine.mjs', patched]);
    t.is(await readFile(patched, 'utf8'), await readFile(engine, 'utf8'));
    const other = join(dir, 'other.js');
    await writeFile(other, 'export default function initializeApp() {}\n');
    const refused = spawnSync(process.execPath, ['bin/patch-engine.mjs', other], { encoding: 'utf8' });
    t.is(refused.status, 1);
    t.regex(refused.stderr, /is not the oidc-provider 9\.13\.3 it patches/);
    t.is(await readFile(other, 'utf8'), 'export default function initializeApp() {}\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
