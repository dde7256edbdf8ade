/**
 * A code exchange or a refresh that answers 503 changed nothing: here the release row's commit
 * waits on a locked audit trail past the statement timeout, after the engine had spent the code
 * or the refresh token. The site's retry with the same code or token then succeeds, and the
 * person's grant lives on (before, the retry counted as reuse and revoked it). The database is
 * marked back at the next request.
 */
import test from 'ava';
import { sql } from 'kysely';
import * as client from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import {
  authorizationRequest,
  exchangeCode,
  OFFLINE_SCOPE,
  refreshingSite,
  walkAuthorization,
} from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
test.before(async () => {
  yitong = await startYitong('postgres', { DATABASE_STATEMENT_TIMEOUT_MS: '1000' });
});
test.after.always(() => yitong?.stop());

test('a refresh answered 503 after its token was spent: the retry with the same token works', async (t) => {
  const site = await refreshingSite(yitong);
  const person = newCitizen();
  await yitong.createCitizen(person);
  const pending = await authorizationRequest(site, { scope: OFFLINE_SCOPE, extra: { prompt: 'consent' } });
  const walk = await walkAuthorization(new Browser(), pending.url, person);
  const tokens = await exchangeCode(site, walk.callbackUrl, pending);
  const refreshToken = String(tokens.refresh_token);

  const { db } = yitong.server.container.database;
  const failed = await db.transaction().execute(async (trx) => {
    await sql`LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE`.execute(trx);
    return client.refreshTokenGrant(site.config, refreshToken).then(
      () => 'accepted',
      // A 503 is no OAuth error: openid-client hands back the response as the cause.
      (error: { cause?: { status?: number } }) => error.cause?.status,
    );
  });
  t.is(failed, 503);

  const retried = await client.refreshTokenGrant(site.config, refreshToken);
  t.truthy(retried.access_token, 'the same refresh token works');
  const info = await client.fetchUserInfo(site.config, retried.access_token, String(tokens.claims()?.sub));
  t.is(info.name, person.name, 'the grant lives on');
  t.false(yitong.server.container.outages.isDown('database'));
});

test('a code exchange answered 503 after its code was spent: the retry with the same code works; a spent code stays spent', async (t) => {
  const site = await refreshingSite(yitong);
  const person = newCitizen();
  await yitong.createCitizen(person);
  const pending = await authorizationRequest(site, { scope: OFFLINE_SCOPE, extra: { prompt: 'consent' } });
  const walk = await walkAuthorization(new Browser(), pending.url, person);

  const { db } = yitong.server.container.database;
  const failed = await db.transaction().execute(async (trx) => {
    await sql`LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE`.execute(trx);
    return exchangeCode(site, walk.callbackUrl, pending).then(
      () => 'accepted',
      (error: { cause?: { status?: number } }) => error.cause?.status,
    );
  });
  t.is(failed, 503);

  const tokens = await exchangeCode(site, walk.callbackUrl, pending);
  const info = await client.fetchUserInfo(site.config, tokens.access_token, String(tokens.claims()?.sub));
  t.is(info.name, person.name, 'the grant lives on');
  const again = await exchangeCode(site, walk.callbackUrl, pending).catch(
    (error: client.ResponseBodyError) => error,
  );
  t.like(again, { error: 'invalid_grant' }, 'a code once exchanged is spent');
});
