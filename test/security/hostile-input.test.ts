/**
 * Hostile input behind sign-in and at the protocol endpoints: every request the fuzzing found to
 * answer 500 now gets a clear 400 and changes nothing, on PostgreSQL + Redis and on the embedded
 * database.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import test from 'ava';
import { signInTo } from '../helpers/account.ts';
import { adminApi, consoleAdmin, departmentToken, selfRegistered } from '../helpers/admin.ts';
import { Browser, hiddenField } from '../helpers/browser.ts';
import type { Backend } from '../helpers/databases.ts';
import { newCitizen } from '../helpers/people.ts';
import { rawHttp } from '../helpers/raw-http.ts';
import { REDIRECT_URI } from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

/** Levels of `{"a":…}`: echoing 5,000 of them into a page overflowed the stack. */
const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const NUL = '\u0000';

for (const backend of ['postgres', 'pglite'] as Backend[]) {
  let yitong: Yitong;
  test.before(async () => {
    yitong = await startYitong(backend);
  });
  test.after.always(() => yitong?.stop());

  test(`${backend}: a NUL in client_id at /auth, /token, introspection and end_session is a 400, never a 500`, async (t) => {
    const { clientId, clientSecret } = await yitong.addClient({
      client_name: '测试网站',
      department: '测试部门',
      region_code: '440100',
      redirect_uris: [REDIRECT_URI],
      scope: 'openid',
    });
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(`${clientId}${NUL}`)}:${clientSecret}`).toString('base64')}`;
    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
    const answers = await Promise.all([
      fetch(
        `${yitong.issuer}/auth?${form({ client_id: `x${NUL}`, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI })}`,
        { redirect: 'manual' },
      ),
      fetch(`${yitong.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form({ grant_type: 'client_credentials', client_id: `x${NUL}`, client_secret: 'y' }),
      }),
      fetch(`${yitong.issuer}/token/introspection`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
        body: form({ token: `t${NUL}` }),
      }),
      fetch(`${yitong.issuer}/session/end?${form({ client_id: `x${NUL}` })}`, { redirect: 'manual' }),
      fetch(`${yitong.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form({
          grant_type: 'refresh_token',
          refresh_token: `r${NUL}`,
          client_id: clientId,
          client_secret: clientSecret,
        }),
      }),
    ]);
    for (const answer of answers) {
      t.true(answer.status >= 400 && answer.status < 500, `${answer.url} ${answer.status}`);
      await answer.body?.cancel();
    }
    // A NUL in any authorization parameter kept with the interaction (state, nonce, login_hint):
    // Redis keeps it; the database cannot, and the site is told invalid_request. Never a 500.
    for (const field of ['state', 'nonce', 'login_hint']) {
      const answer = await fetch(
        `${yitong.issuer}/auth?${form({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, code_challenge: 'a'.repeat(43), code_challenge_method: 'S256', [field]: `a${NUL}b` })}`,
        { redirect: 'manual' },
      );
      t.true(answer.status < 500, `${field}: ${answer.status}`);
      t.notRegex(answer.headers.get('location') ?? '', /server_error/, field);
      await answer.body?.cancel();
    }
    // The claims parameter's escapes decode to what no store holds: the site is told at once,
    // before the sign-in, not with a 500 when the code is exchanged.
    for (const escaped of ['\\ud800', '\\u0000']) {
      const claims = `{"userinfo":{"name":{"value":"a${escaped}"}}}`;
      const answer = await fetch(
        `${yitong.issuer}/auth?${form({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, code_challenge: 'a'.repeat(43), code_challenge_method: 'S256', claims })}`,
        { redirect: 'manual' },
      );
      const location = new URL(answer.headers.get('location') ?? '/', yitong.issuer);
      t.is(`${location.origin}${location.pathname}`, REDIRECT_URI, escaped);
      t.is(location.searchParams.get('error'), 'invalid_request');
      t.regex(location.searchParams.get('error_description') ?? '', /^the claims parameter: /);
    }
  });

  test(`${backend}: the audit trail refuses dates it cannot hold (0000-01-01) with 400 naming the field`, async (t) => {
    const token = await departmentToken(yitong, '440000', 'admin:read');
    for (const query of [
      'from=0000-01-01',
      'to=0001-01-01',
      'from=2026-02-30',
      'to=99999-01-01',
      'from=2020-13-45',
      'to=2020-00-10',
    ]) {
      const answer = await adminApi(yitong, token, `/audit?${query}`);
      t.is(answer.status, 400, query);
      t.regex(((await answer.json()) as { error_description: string }).error_description, /YYYY-MM-DD/);
    }
    t.is((await adminApi(yitong, token, '/audit?from=2026-01-01')).status, 200);
  });

  test(`${backend}: a client that hangs up before its body ends is no outage: the next requests are answered`, async (t) => {
    const { port } = new URL(yitong.issuer);
    for (const path of ['/register', '/auth', '/token']) {
      const socket = connect(Number(port), '127.0.0.1');
      await once(socket, 'connect');
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\na=`,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { outages } = yitong.server.container;
    t.false(outages.isDown('database'), 'the database is not taken for down');
    t.false(outages.isDown('redis'));
    const token = await departmentToken(yitong, '440000', 'admin:read');
    const answers = await Promise.all(Array.from({ length: 20 }, () => adminApi(yitong, token, '/clients')));
    t.deepEqual([...new Set(answers.map((answer) => answer.status))], [200]);
  });
}

let yitong: Yitong;
test.before(async () => {
  yitong = await startYitong('postgres');
});
test.after.always(() => yitong?.stop());

const db = () => yitong.server.container.database.db;

test("a token request over 56 KiB gets the engine's JSON error, not plain text", async (t) => {
  const answer = await fetch(`${yitong.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=refresh_token&refresh_token=${'r'.repeat(60 * 1024)}`,
  });
  t.is(answer.status, 400);
  t.is(answer.headers.get('cache-control'), 'no-store');
  t.like(await answer.json(), {
    error: 'invalid_request',
    error_description: 'the request body is larger than the 56 KiB this endpoint takes',
  });
});

test('a chunked body over 56 KiB is refused as too large, at the token endpoint and a registration update, and changes nothing', async (t) => {
  /** A valid start, then 60 KiB more in a second chunk: no Content-Length to refuse it by. */
  const chunked = (start: string) => ({
    body: new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(start));
        controller.enqueue(new TextEncoder().encode(' '.repeat(60 * 1024)));
        controller.close();
      },
    }),
    duplex: 'half',
  });
  const tooLarge = {
    error: 'invalid_request',
    error_description: 'the request body is larger than the 56 KiB this endpoint takes',
  };
  const token = await fetch(`${yitong.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    ...chunked('grant_type=client_credentials&scope=openid'),
  } as RequestInit);
  t.is(token.status, 400);
  t.like(await token.json(), tooLarge);

  const site = {
    client_name: '分块测试网站',
    redirect_uris: ['https://c.example.gov.cn/cb'],
    scope: 'openid',
  };
  const created = await selfRegistered(yitong, '分块测试部门', site);
  const update = await fetch(created.registration_client_uri, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${created.registration_access_token}`,
      'content-type': 'application/json',
    },
    ...chunked(JSON.stringify({ ...site, client_id: created.client_id, client_name: '改了名' })),
  } as RequestInit);
  t.is(update.status, 400);
  t.like(await update.json(), tooLarge);
  const stored = await db()
    .selectFrom('clients')
    .select('metadata')
    .where('id', '=', created.client_id)
    .executeTakeFirst();
  t.is(stored?.metadata.client_name, '分块测试网站', 'the cut-short body was not applied');
});

/**
 * A request declaring far more than any route takes that sends three bytes of it and then nothing,
 * its socket kept open: what came back within a second, and whether the server closed it.
 */
async function declaredTooLarge(method: string, path: string, type: string) {
  const { port } = new URL(yitong.issuer);
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    `${method} ${path} HTTP/1.1\r\nHost: localhost:${port}\r\nContent-Type: ${type}\r\nContent-Length: 99999999999\r\n\r\nq=1`,
  );
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  const closed = await Promise.race([
    once(socket, 'end').then(() => true),
    new Promise<false>((resolve) => setTimeout(resolve, 1000, false)),
  ]);
  socket.destroy();
  const [head = '', body = ''] = text.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), head: head.toLowerCase(), body, closed };
}

test('a body declared larger than the route takes is refused at once, without waiting for it, and the connection closed', async (t) => {
  const form = 'application/x-www-form-urlencoded';
  // The protocol endpoints answer as the engine does for a body too long, saying why; our routes as for any.
  const engine =
    /^\{"error":"invalid_request","error_description":"the request body is larger than the 56 KiB this endpoint takes"\}$/;
  for (const [method, path, type, status, body] of [
    ['POST', '/token', form, 400, engine],
    ['POST', '/token/introspection', form, 400, engine],
    ['POST', '/request', form, 400, engine],
    ['POST', '/reg', 'application/json', 400, engine],
    // Its bearer token is checked first: the body need not be read to refuse it.
    ['PUT', '/reg/some-site', 'application/json', 401, /"error":"invalid_token"/],
    ['POST', '/auth', form, 413, /<html/],
    ['POST', '/register', form, 413, /<html/],
    ['POST', '/admin/api/clients', 'application/json', 413, /"error":"request.too_large"/],
  ] as const) {
    const answer = await declaredTooLarge(method, path, type);
    t.is(answer.status, status, path);
    t.regex(answer.body, body, path);
    t.regex(answer.head, /\r\nconnection: close\r\n/, path);
    t.true(answer.closed, `${path}: closed`);
  }
});

test('GET, HEAD, PUT or DELETE at the POST-only endpoints is a 405 naming POST, as JSON; CORS preflight still answers, a plain OPTIONS names the methods', async (t) => {
  const discovery = await (await fetch(`${yitong.issuer}/.well-known/openid-configuration`)).json();
  const endpoints = [
    'token_endpoint',
    'introspection_endpoint',
    'revocation_endpoint',
    'pushed_authorization_request_endpoint',
  ].map((name) => String(discovery[name]));
  for (const url of endpoints)
    for (const method of ['GET', 'PUT', 'DELETE', 'HEAD']) {
      const answer = await fetch(`${url}?grant_type=client_credentials`, { method });
      t.is(answer.status, 405, `${method} ${url}`);
      t.is(answer.headers.get('allow'), 'POST');
      t.truthy(answer.headers.get('x-content-type-options'), 'with the security headers');
      if (method !== 'HEAD') t.like(await answer.json(), { error: 'invalid_request' });
    }
  const preflight = await fetch(String(endpoints[0]), {
    method: 'OPTIONS',
    headers: { origin: 'https://site.example', 'access-control-request-method': 'POST' },
  });
  t.is(preflight.status, 204);
  // A plain OPTIONS (no preflight): the methods the endpoint takes (RFC 9110, 9.3.7).
  for (const [path, allow] of [
    ['/token', 'POST'],
    ['/me', 'GET, POST'],
    ['/jwks', 'GET'],
  ] as const) {
    const options = await fetch(`${yitong.issuer}${path}`, { method: 'OPTIONS' });
    t.is(options.status, 204, path);
    t.is(options.headers.get('allow'), allow, path);
  }
});

test('a method an endpoint does not take is a 405 naming those it does; a path that is no endpoint, a 404; JSON for programs, a page for people', async (t) => {
  const at = (path: string, method: string, headers: Record<string, string> = {}) =>
    fetch(`${yitong.issuer}${path}`, { method, headers });
  for (const [path, method, allow] of [
    ['/me', 'PUT', 'GET, POST'],
    ['/jwks', 'POST', 'GET'],
    ['/.well-known/openid-configuration', 'POST', 'GET'],
    ['/auth', 'DELETE', 'GET, POST'],
    ['/session/end/confirm', 'GET', 'POST'],
  ] as const) {
    const answer = await at(path, method);
    t.is(answer.status, 405, `${method} ${path}`);
    t.is(answer.headers.get('allow'), allow, path);
    t.like(JSON.parse(await answer.text()), { error: 'invalid_request' }, path);
  }
  for (const path of ['/jwks/x', '/.well-known/nope', '/auth/a/b', '/reg/']) {
    const answer = await at(path, 'GET');
    t.is(answer.status, 404, path);
    t.like(
      JSON.parse(await answer.text()),
      { error: 'invalid_request', error_description: 'no such endpoint' },
      path,
    );
  }

  // Our own routes: the admin API answers JSON, as it promises; a page, a page in the reader's language.
  const token = await departmentToken(yitong, '440000', 'admin:read');
  const api = await adminApi(yitong, token, '/clients', { method: 'DELETE' });
  t.is(api.status, 405);
  t.truthy(api.headers.get('allow')?.includes('GET'));
  t.like(await api.json(), { error: 'request.invalid' });
  const upper = await at('/ADMIN/API/clients', 'GET', { accept: 'text/html' });
  t.is(upper.status, 401, 'the router takes any case, and so does the JSON rule');
  t.like(await upper.json(), { error: 'api.unauthorized' });
  const page = await at('/account/password', 'GET', { accept: 'text/html' });
  t.is(page.status, 405);
  t.regex(await page.text(), /此网址不接受 GET 请求/);
});

test('what HTTP itself refuses is answered as Node would, with a line saying what to do: a link over 16 KiB points to PAR', async (t) => {
  const { port } = new URL(yitong.issuer);
  const long = await rawHttp(
    port,
    `GET /auth?client_id=x&request=${'a'.repeat(20 * 1024)} HTTP/1.1\r\nHost: localhost:${port}\r\n\r\n`,
  );
  t.regex(long, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  t.regex(long, /Content-Type: text\/plain; charset=utf-8/);
  t.regex(long, /推送授权请求（PAR/);
  t.regex(long, /a site sending a long authorization request should send it by PAR/);
  t.regex(long, /clear this site’s cookies/);
  t.regex(
    await rawHttp(port, 'NOT HTTP AT ALL\r\n\r\n'),
    /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*not valid HTTP/,
  );
  t.is((await fetch(`${yitong.issuer}/healthz`)).status, 200, 'the server goes on');
});

test('a Host that is no host is a 400 before the engine builds a link from it; HTTP/1.0 without one too', async (t) => {
  const { port } = new URL(yitong.issuer);
  const raw = (request: string) => rawHttp(port, request);
  const auth = `/auth?client_id=x&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`;
  for (const host of ['localhost:99999', '[::1', 'a b', `localhost:${port}:1`, '%zz', '<script>'])
    for (const path of [auth, '/session/end', '/token'])
      t.regex(
        await raw(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
        /^HTTP\/1\.1 400 /,
        `${host} ${path}`,
      );
  t.regex(await raw('GET /session/end HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 400 /);
  t.regex(
    await raw(
      `GET http://evil.example/session/end HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`,
    ),
    /^HTTP\/1\.1 400 [\s\S]*请求行/,
    'absolute form',
  );
  t.regex(
    await raw(`GET /session/end HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`),
    /^HTTP\/1\.1 200 /,
    'a good one is served',
  );
  t.false(yitong.server.container.outages.isDown('database'));
});

/** A new site of its own pushes `form` to the PAR endpoint (client_secret_basic). */
async function pushedBySite(name: string, form: (clientId: string) => Record<string, string>) {
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: name,
    department: '测试部门',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid',
  });
  const discovery = await (await fetch(`${yitong.issuer}/.well-known/openid-configuration`)).json();
  const answer = await fetch(discovery.pushed_authorization_request_endpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form(clientId)),
  });
  return { clientId, answer };
}

test('a pushed authorization request carrying request_uri is invalid_request (RFC 9126, 2.1)', async (t) => {
  const { answer } = await pushedBySite('推送请求网站', () => ({
    response_type: 'code',
    scope: 'openid',
    redirect_uri: REDIRECT_URI,
    request_uri: 'urn:ietf:params:oauth:request_uri:planted',
  }));
  t.is(answer.status, 400);
  const body = await answer.json();
  t.is(body.error, 'invalid_request');
  t.regex(body.error_description, /request_uri/);
});

test('a NUL in a pushed form parameter is refused naming the parameter, not a request object the site never sent', async (t) => {
  const { clientId, answer: pushed } = await pushedBySite('推送参数网站', (clientId) => ({
    client_id: clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: REDIRECT_URI,
    code_challenge: 'a'.repeat(43),
    code_challenge_method: 'S256',
    nonce: `n${NUL}`,
  }));
  t.is(pushed.status, 201, 'the form is taken as it comes');
  const { request_uri } = await pushed.json();
  const page = await new Browser().visit(
    `${yitong.issuer}/auth?${new URLSearchParams({ client_id: clientId, request_uri })}`,
    {},
    REDIRECT_URI,
  );
  t.is(page.status, 400);
  t.regex(
    page.html,
    /the pushed request(’|'|&#39;|&#x27;)s (’|'|&#39;|&#x27;)nonce(’|'|&#39;|&#x27;): a NUL character is not allowed/,
  );
});

test('a bigint cursor out of range, or not a number, is a 400 on the ledger', async (t) => {
  const person = newCitizen();
  await yitong.createCitizen(person);
  const browser = new Browser();
  await signInTo(browser, yitong.issuer, person);
  for (const before of ['9223372036854775808', '-1', 'abc', '0x10'])
    t.is((await browser.visit(`${yitong.issuer}/account/releases?before=${before}`)).status, 400, before);
  t.is((await browser.visit(`${yitong.issuer}/account/releases?before=9223372036854775807`)).status, 200);
});

// One at a time: it counts every site's audit rows, and other tests here register sites.
test.serial(
  'a NUL or a lone surrogate in a site’s name or department is a 400 through the API, the console and registration tokens; nothing is written',
  async (t) => {
    const token = await departmentToken(yitong, '440100', 'admin');
    const site = (extra: Record<string, unknown>) => ({
      client_id: ids[ids.push(`bad-${Math.random().toString(36).slice(2, 8)}`) - 1],
      client_name: '网站',
      department: '部门',
      region_code: '440106',
      redirect_uris: ['https://x.example.gov.cn/cb'],
      scope: 'openid',
      ...extra,
    });
    const siteRows = () =>
      db()
        .selectFrom('audit_events')
        .select('seq')
        .where('action', 'like', 'client.%')
        .execute()
        .then((rows) => rows.length);
    const rowsBefore = await siteRows();
    const ids: string[] = [];
    const bodies = [
      JSON.stringify(site({ client_name: `网${NUL}站` })),
      JSON.stringify(site({ department: 'x' })).replace('"x"', '"\\ud800x"'),
      JSON.stringify(site({ client_name: 'x' })).replace('"x"', '"\\udfff"'),
    ];
    for (const body of bodies) {
      const answer = await adminApi(yitong, token, '/clients', { method: 'POST', body });
      t.is(answer.status, 400, body);
    }
    const tokenBody = JSON.stringify({ department: 'x', region_code: '440106', scopes: 'openid' }).replace(
      '"x"',
      '"\\ud800"',
    );
    t.is(
      (await adminApi(yitong, token, '/registration-tokens', { method: 'POST', body: tokenBody })).status,
      400,
    );

    const admin = await consoleAdmin(yitong, 'admin', '440100');
    const list = await admin.browser.visit(`${yitong.issuer}/admin/clients`);
    const fromConsole = await admin.browser.visit(`${yitong.issuer}/admin/clients`, {
      form: {
        _csrf: hiddenField(list.html, '_csrf'),
        ...(site({ client_name: `网${NUL}站` }) as unknown as Record<string, string>),
        redirect_uris: 'https://x.example.gov.cn/cb',
      },
    });
    t.is(fromConsole.status, 400);
    t.deepEqual(
      await db().selectFrom('clients').select('id').where('id', 'in', ids).execute(),
      [],
      'no site written',
    );
    t.is(await siteRows(), rowsBefore, 'no audit row about a site');
  },
);

test('a NUL inside a self-registration’s metadata is invalid_client_metadata', async (t) => {
  const { issueInitialAccessToken } = await import('../../src/oidc/registration.ts');
  const token = await issueInitialAccessToken(
    yitong.server.container.provider,
    yitong.server.container.clientsRepo,
    { department: '自助登记测试部门', regionCode: '440100', scopes: 'openid' },
    'cli',
  );
  const registered = () =>
    db().selectFrom('clients').select('id').where('department', '=', '自助登记测试部门').execute();
  const answer = await fetch(`${yitong.issuer}/reg`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: `网${NUL}站`,
      redirect_uris: ['https://x.example.gov.cn/cb'],
      scope: 'openid',
    }),
  });
  t.is(answer.status, 400);
  t.like(await answer.json(), { error: 'invalid_client_metadata' });
  t.deepEqual(await registered(), []);
});

test('deeply nested JSON to forms is a 400: forms take only their own fields, as strings', async (t) => {
  const person = newCitizen();
  await yitong.createCitizen(person);
  const browser = new Browser();
  const page = await signInTo(browser, yitong.issuer, person, '/account/entities');
  const csrf = hiddenField(page.html, '_csrf');
  const cases: Array<[number, number]> = [
    [1000, 400],
    [5000, 413],
  ];
  for (const [levels, status] of cases)
    for (const path of ['/account/entities', '/account/entities/91440101MA5CXK7U0X/members', '/register']) {
      const answer = await fetch(`${yitong.issuer}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          cookie: browser.cookieHeader(new URL(yitong.issuer)),
          accept: 'text/html',
        },
        body: deep(levels).replace('{"a":', `{"_csrf":"${csrf}","a":`),
      });
      t.is(answer.status, status, `${path} ${levels}`);
      t.notRegex(await answer.text(), /RangeError|stack/i);
    }
  // Nested values are dropped, not echoed: a form field sent as an object is simply empty.
  const nested = await fetch(`${yitong.issuer}/account/entities`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      cookie: browser.cookieHeader(new URL(yitong.issuer)),
      accept: 'text/html',
    },
    body: JSON.stringify({
      _csrf: csrf,
      credit_code: { $gt: '' },
      name: ['x'],
      type: 'enterprise',
      role: 'representative',
    }),
  });
  t.is(nested.status, 400);
  t.regex(await nested.text(), /统一社会信用代码/);
});

test('the OpenAPI document and the API agree: every person action, an empty PATCH and an unknown status action', async (t) => {
  const token = await departmentToken(yitong, '440100', 'admin');
  const document = (await (await fetch(`${yitong.issuer}/admin/api/openapi.json`)).json()) as {
    paths: Record<
      string,
      Record<string, { parameters?: Array<{ name: string; schema: { enum?: string[] } }> }>
    >;
  };
  const actions = document.paths['/people/{id}/{action}']?.post?.parameters?.find((p) => p.name === 'action')
    ?.schema.enum;
  t.deepEqual(actions, ['lock', 'unlock', 'sign-out', 'reset-password']);
  const person = newCitizen('440106');
  const sub = await yitong.createCitizen(person);
  for (const action of actions ?? [])
    t.not(
      (await adminApi(yitong, token, `/people/${sub}/${action}`, { method: 'POST' })).status,
      404,
      action,
    );
  await yitong.addClient({
    client_id: 'patch-me',
    client_name: '网站',
    department: '部门',
    region_code: '440106',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid',
  });
  const empty = await adminApi(yitong, token, '/clients/patch-me', { method: 'PATCH', body: {} });
  t.is(empty.status, 400);
  const confirm = await adminApi(yitong, token, '/legal-persons/91440101MA5CXK7U0X/status', {
    method: 'POST',
    body: { action: 'confirm' },
  });
  t.is(confirm.status, 400);
});

test('registering through /register with a NUL in the name is a 400 and writes nothing', async (t) => {
  const person = newCitizen();
  const browser = new Browser();
  const page = await browser.visit(`${yitong.issuer}/register`);
  const answer = await browser.visit(`${yitong.issuer}/register`, {
    form: {
      _csrf: hiddenField(page.html, '_csrf'),
      id_number: person.idNumber,
      name: `张${NUL}三`,
      password: person.password,
      password_confirm: person.password,
    },
  });
  t.is(answer.status, 400);
  const rows = await db()
    .selectFrom('people')
    .select('id')
    .where('id_number_hmac', '=', yitong.server.container.sealer.index(person.idNumber))
    .execute();
  t.deepEqual(rows, []);
});
