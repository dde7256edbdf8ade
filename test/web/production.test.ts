/** Production rules at the edge: HTTPS at the issuer's host only, and client addresses taken from our proxy. */
import test from 'ava';
import { request } from 'undici';
import { hiddenField } from '../helpers/browser.ts';
import { rawHttp } from '../helpers/raw-http.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

const key = Buffer.alloc(32, 9).toString('base64');
let yitong: Yitong;
let origin: string;

test.before(async () => {
  yitong = await startYitong('pglite', {
    NODE_ENV: 'production',
    ISSUER: 'https://id.example.gov.cn',
    TRUST_PROXY: 'true',
    COOKIE_KEYS: 'p'.repeat(40),
    DATA_ENCRYPTION_KEY: key,
    HMAC_KEY: key,
  });
  origin = `http://127.0.0.1:${yitong.server.port}`;
});
test.after.always(() => yitong?.stop());

/** fetch() may not set Host; undici's request may, as a proxy does. */
async function call(
  url: string,
  init: { method?: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
) {
  const response = await request(url, init);
  const setCookie = response.headers['set-cookie'];
  return {
    status: response.statusCode,
    header: (name: string) => response.headers[name] as string | undefined,
    cookies: Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [],
    text: () => response.body.text(),
  };
}

const viaProxy = (extra: Record<string, string> = {}) => ({
  host: 'id.example.gov.cn',
  'x-forwarded-proto': 'https',
  'x-forwarded-for': '198.51.100.7',
  ...extra,
});

// Serial, so first: discovery is made once, on the first request that asks for it.
test.serial(
  'a request line naming another host (absolute form) is a 400: discovery is never made with its links',
  async (t) => {
    const raw = (target: string) =>
      rawHttp(
        yitong.server.port,
        `GET ${target} HTTP/1.1\r\nHost: id.example.gov.cn\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n`,
      );
    for (const target of [
      'https://evil.example/.well-known/openid-configuration',
      'https://evil.example/jwks',
      'https://evil.example/auth?client_id=x',
      '*',
    ])
      t.regex(await raw(target), /^HTTP\/1\.1 400 /, target);
    const discovery = await call(`${origin}/.well-known/openid-configuration`, { headers: viaProxy() });
    const links = JSON.parse(await discovery.text());
    t.is(links.authorization_endpoint, 'https://id.example.gov.cn/auth');
    t.is(links.jwks_uri, 'https://id.example.gov.cn/jwks');
  },
);

test('pages and endpoints answer only over HTTPS at the issuer host; health checks answer anyway', async (t) => {
  const discovery = await call(`${origin}/.well-known/openid-configuration`, { headers: viaProxy() });
  t.is(discovery.status, 200);
  t.is(JSON.parse(await discovery.text()).issuer, 'https://id.example.gov.cn');
  t.is(discovery.header('strict-transport-security'), 'max-age=63072000; includeSubDomains');

  const plain = await call(`${origin}/register`, { headers: viaProxy({ 'x-forwarded-proto': 'http' }) });
  t.is(plain.status, 400);
  t.regex(await plain.text(), /请求无效：请通过 HTTPS 访问/);

  const forged = await call(`${origin}/register`, { headers: viaProxy({ host: 'evil.example' }) });
  t.is(forged.status, 400);
  t.regex(await forged.text(), /主机名 evil\.example 不是一通的网址/);
  // A Host that reads like one of the reasons is shown as given, not looked up (nor again, for ever).
  const keyLike = await call(`${origin}/register`, { headers: viaProxy({ host: 'reason.host' }) });
  t.is(keyLike.status, 400);
  t.regex(await keyLike.text(), /主机名 reason\.host 不是一通的网址/);

  // Discovery, made and served ahead of the rest since the first call above, keeps the same rule.
  for (const [path, headers] of [
    ['/.well-known/openid-configuration', viaProxy({ 'x-forwarded-proto': 'http' })],
    ['/jwks', viaProxy({ host: 'evil.example' })],
  ] as const) {
    await call(`${origin}${path}`, { headers: viaProxy() });
    t.is((await call(`${origin}${path}`, { headers })).status, 400, path);
  }
  // So do the programs' endpoints, handed to the engine ahead of the rest: the engine's own answer
  // (401 or 400 from OAuth) only over HTTPS at the issuer's host, with every response's headers.
  for (const path of ['/token', '/token/introspection', '/token/revocation', '/me']) {
    const method = path === '/me' ? 'GET' : 'POST';
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const engine = await call(`${origin}${path}`, {
      method,
      headers: viaProxy(form),
      body: method === 'POST' ? 'token=x' : undefined,
    });
    t.true(
      [400, 401].includes(engine.status) && engine.header('content-type')?.startsWith('application/json'),
      path,
    );
    t.is(engine.header('strict-transport-security'), 'max-age=63072000; includeSubDomains', path);
    t.is(engine.header('x-content-type-options'), 'nosniff', path);
    for (const headers of [
      viaProxy({ ...form, 'x-forwarded-proto': 'http' }),
      viaProxy({ ...form, host: 'evil.example' }),
    ]) {
      const refused = await call(`${origin}${path}`, {
        method,
        headers,
        body: method === 'POST' ? 'token=x' : undefined,
      });
      t.is(refused.status, 400, path);
      t.regex(await refused.text(), /HTTPS is required|unknown host|请通过 HTTPS 访问|不是一通的网址/, path);
    }
  }

  t.is((await call(`${origin}/healthz`, { headers: {} })).status, 200);
});

test('the client address comes from our proxy’s entry, so a forged X-Forwarded-For cannot dodge the limit', async (t) => {
  const form = await call(`${origin}/register`, { headers: viaProxy() });
  const cookie = form.cookies.map((line) => line.split(';')[0]).join('; ');
  t.regex(cookie, /__Host-yitong\.csrf=/, 'the CSRF cookie is host-bound in production');
  t.true(form.cookies.every((line) => /; secure/i.test(line)));
  const csrf = hiddenField(await form.text(), '_csrf');
  const submit = (forged: string) =>
    call(`${origin}/register`, {
      method: 'POST',
      headers: {
        ...viaProxy({ 'x-forwarded-for': `${forged}, 203.0.113.50` }),
        cookie,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        _csrf: csrf,
        id_number: 'bad',
        name: 'x',
        password: 'x',
        password_confirm: 'x',
      }).toString(),
    });
  for (let i = 0; i < 20; i++) t.is((await submit(`10.9.9.${i}`)).status, 400);
  const limited = await submit('10.9.9.99');
  t.is(limited.status, 429);
  t.regex(await limited.text(), /注册请求过于频繁/);
});
