/**
 * Prometheus metrics: served behind a bearer token, counting what operators watch (requests by
 * route, sign-ins, grants, refusals, the pool, the event loop), and never anyone's data.
 */
import test from 'ava';
import * as client from 'openid-client';
import { signInTo } from '../helpers/account.ts';
import { Browser } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import { discoverSite, REDIRECT_URI } from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

const TOKEN = 'metrics-token-0123456789abcdef0123456789';
let yitong: Yitong;
test.before(async () => {
  yitong = await startYitong('postgres', { METRICS_TOKEN: TOKEN });
});
test.after.always(() => yitong?.stop());

const scrape = (token?: string) =>
  fetch(`${yitong.issuer}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

// One at a time: the second's embedded database, starting, must not hold up the first's deadlines.
test.serial(
  'scraped with the token: requests by route, sign-ins, grants, refusals, the pool and the process; nobody’s data',
  async (t) => {
    const person = newCitizen();
    await yitong.createCitizen(person);
    await signInTo(new Browser(), yitong.issuer, person);
    const accounts = yitong.server.container.accounts;
    for (let i = 0; i < 6; i++)
      await accounts.authenticate(person.idNumber, 'wrong', '10.77.0.1').catch(() => {});
    const { clientId, clientSecret } = await yitong.addClient({
      client_name: '指标网站',
      department: '测试部门',
      region_code: '440100',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['client_credentials'],
      scope: 'openid',
    });
    const site = await discoverSite(yitong.issuer, clientId, clientSecret);
    await client.clientCredentialsGrant(site.config);
    // The second is answered before the application (made once): counted all the same.
    for (let i = 0; i < 2; i++) await (await fetch(`${yitong.issuer}/jwks`)).arrayBuffer();

    const refused = await scrape();
    t.is(refused.status, 401);
    t.like(await refused.json(), { error: 'invalid_token' }, 'JSON that says what to send, not plain text');
    t.is((await scrape('wrong-token-0123456789abcdef0123456789xx')).status, 401);
    const answer = await scrape(TOKEN);
    t.is(answer.status, 200);
    const text = await answer.text();
    t.regex(text, /yitong_http_request_duration_seconds_count\{route="token",method="POST",status="2xx"\} 1/);
    t.regex(
      text,
      /yitong_http_request_duration_seconds_count\{route="discovery",method="GET",status="2xx"\}/,
    );
    t.regex(text, /yitong_http_request_duration_seconds_count\{route="jwks",method="GET",status="2xx"\} 2\n/);
    t.regex(text, /yitong_http_request_duration_seconds_count\{route="\/account",method="GET"/);
    t.regex(text, /yitong_sign_ins_total\{method="pwd",acr="urn:yitong:acr:pwd",result="success"\} 1/);
    t.regex(text, /yitong_sign_ins_total\{method="pwd",acr="",result="wrong_password"\} 5/);
    t.regex(text, /yitong_rate_limit_refusals_total\{limit="pwd:acct\+ip"\} 1/);
    t.notRegex(text, /limit="pwd:acct\+net"/, 'a count that refused nobody is no refusal');
    t.regex(
      text,
      new RegExp(`yitong_token_grants_total\\{grant_type="client_credentials",client="${clientId}"\\} 1`),
    );
    t.regex(text, /yitong_pg_pool_connections \d+/);
    t.regex(text, /nodejs_eventloop_lag_seconds/);
    t.regex(text, /process_resident_memory_bytes/);
    for (const secret of [person.idNumber, person.name, person.phone, clientSecret])
      t.false(text.includes(secret), 'no personal data or secret in any label');
  },
);

test.serial('without METRICS_TOKEN nothing is served', async (t) => {
  const plain = await startYitong('pglite');
  t.teardown(() => plain.stop());
  t.is(
    (await fetch(`${plain.issuer}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    404,
  );
});
