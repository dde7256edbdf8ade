import { REDIRECT_URI } from './test/helpers/rp.ts';
import { privatePostgres, privateRedis } from './test/helpers/servers.ts';
import { startYitong } from './test/helpers/yitong.ts';

const td: Array<() => Promise<void>> = [];
const pg = await privatePostgres((f) => td.push(f));
const r = await privateRedis((f) => td.push(f));
const y = await startYitong('pglite', { DATABASE_URL: pg.url, REDIS_URL: r.url, LOG_LEVEL: 'warn' });
const reg = await y.addClient({
  client_name: 'x',
  department: 'd',
  region_code: '440100',
  redirect_uris: [REDIRECT_URI],
  grant_types: ['authorization_code', 'client_credentials'],
  scope: 'openid profile',
});
const basic = `Basic ${Buffer.from(`${reg.clientId}:${reg.clientSecret}`).toString('base64')}`;
const token = () =>
  fetch(`${y.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
    body: 'grant_type=client_credentials',
  }).then(async (res) => `${res.status} ${await res.text()}`);
console.log(await token());
await r.stop();
console.log(await token());
await r.start();
for (let i = 0; i < 10; i++) {
  await new Promise((res) => setTimeout(res, 300));
  console.log(i, await token());
}
await y.stop();
for (const f of td.reverse()) await f();
