/**
 * A request answered 503 changed nothing, and the retry works. Here the database cannot answer
 * past the statement timeout (a table locked): for a code exchange or a refresh, the release
 * row's commit, after the engine had spent the code or the refresh token (before, the retry
 * counted as reuse and revoked the person's grant); for a site's registration update that
 * sends its own secret, finding the site. The database is marked back at the next request.
 * One at a time: each locks a table the others need.
 */
import test from 'ava';
import { sql } from 'kysely';
import * as client from 'openid-client';
import { selfRegistered } from '../helpers/admin.ts';
import { Browser } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import {
  authorizationRequest,
  exchangeCode,
  OFFLINE_SCOPE,
  refreshingSite,
  walkAuthorization,
} from '../helpers/rp.ts';
import { pause } from '../helpers/wait.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
test.before(async () => {
  yitong = await startYitong('postgres', { DATABASE_STATEMENT_TIMEOUT_MS: '1000' });
});
test.after.always(() => yitong?.stop());

/** A person who has just signed in at a site that may refresh: the code to exchange. */
async function signedIn() {
  const site = await refreshingSite(yitong);
  const person = newCitizen();
  await yitong.createCitizen(person);
  const pending = await authorizationRequest(site, { scope: OFFLINE_SCOPE, extra: { prompt: 'consent' } });
  const walk = await walkAuthorization(new Browser(), pending.url, person);
  return { site, person, exchange: () => exchangeCode(site, walk.callbackUrl, pending) };
}

/** `request` sent while `table` is locked past the requests' 1 s statement timeout. */
const whileLocked = <T>(table: string, request: () => Promise<T>) =>
  yitong.server.container.database.db.transaction().execute(async (trx) => {
    // The lock itself may wait on a row being written (a registration's audit row).
    await sql`SET LOCAL statement_timeout = 10000`.execute(trx);
    await sql`LOCK TABLE ${sql.table(table)} IN ACCESS EXCLUSIVE MODE`.execute(trx);
    return request();
  });

/** A 503 is no OAuth error: openid-client hands back the response as the cause. */
const statusOf = (attempt: Promise<unknown>) =>
  attempt.then(
    () => 'accepted',
    (error: { cause?: { status?: number } }) => error.cause?.status,
  );

test.serial(
  'a refresh answered 503 after its token was spent: the retry with the same token works',
  async (t) => {
    const { site, person, exchange } = await signedIn();
    const tokens = await exchange();
    const refreshToken = String(tokens.refresh_token);
    t.is(
      await whileLocked('audit_events', () => statusOf(client.refreshTokenGrant(site.config, refreshToken))),
      503,
    );

    const retried = await client.refreshTokenGrant(site.config, refreshToken);
    t.truthy(retried.access_token, 'the same refresh token works');
    const info = await client.fetchUserInfo(site.config, retried.access_token, String(tokens.claims()?.sub));
    t.is(info.name, person.name, 'the grant lives on');
    t.false(yitong.server.container.outages.isDown('database'));
  },
);

test.serial(
  'a code exchange answered 503 after its code was spent: the retry with the same code works; a spent code stays spent',
  async (t) => {
    const { site, person, exchange } = await signedIn();
    t.is(await whileLocked('audit_events', () => statusOf(exchange())), 503);

    const tokens = await exchange();
    const info = await client.fetchUserInfo(site.config, tokens.access_token, String(tokens.claims()?.sub));
    t.is(info.name, person.name, 'the grant lives on');
    const again = await exchange().catch((error: client.ResponseBodyError) => error);
    t.like(again, { error: 'invalid_grant' }, 'a code once exchanged is spent');
  },
);

test.serial(
  'a registration update sending its own secret answered 503 while the site cannot be read: the retry works',
  async (t) => {
    const site = {
      client_name: '自助注册网站',
      redirect_uris: ['https://a.example.gov.cn/cb'],
      scope: 'openid',
    };
    const created = await selfRegistered(yitong, '测试部门', site);
    // Read once after the registration's own change was heard, so the engine holds the site:
    // only finding it to check the sent secret needs the database.
    await pause(500);
    const read = await fetch(created.registration_client_uri, {
      headers: { authorization: `Bearer ${created.registration_access_token}` },
    });
    t.is(read.status, 200);
    const token = (await read.json()).registration_access_token; // rotated on each use
    const update = () =>
      fetch(created.registration_client_uri, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...site, client_id: created.client_id, client_secret: created.client_secret }),
      });
    const failed = await whileLocked('clients', update);
    t.is(failed.status, 503);
    t.is(failed.headers.get('retry-after'), '5');
    t.like(await failed.json(), { error: 'temporarily_unavailable' });
    t.is((await update()).status, 200, 'its registration access token and secret still work');
  },
);
