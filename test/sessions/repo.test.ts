/**
 * The sessions repo on both backends: ending a session revokes its sign-ins up to that moment
 * (read with the person, uid → when), takes exactly the grants made through it, and refuses
 * another person's session.
 */
import test from 'ava';
import { createAccountsRepo, signInEnded } from '../../src/accounts/repo.ts';
import { createSessionsRepo } from '../../src/sessions/repo.ts';
import { type Backend, freshDatabase } from '../helpers/databases.ts';

for (const backend of ['postgres', 'pglite'] as Backend[]) {
  test(`${backend}: ending a session revokes its sign-ins so far and takes its grants`, async (t) => {
    const { database, dispose } = await freshDatabase(backend);
    t.teardown(dispose);
    const accounts = createAccountsRepo(database.db);
    const sessions = createSessionsRepo(database.db);
    for (const id of ['me', 'other'])
      await accounts.insertPerson(
        {
          id,
          idNumberHmac: Buffer.from(id),
          idNumberEnc: Buffer.from(id),
          idNumberMasked: '440106********0011',
          name: '测试',
          gender: 'male',
          birthdate: '1990-01-01',
          phone: null,
          passwordHash: null,
        },
        { actor: id, action: 'account.registered', subject: id },
      );
    const place = { device: 'Chrome 131 · Android', network: '10.0.0.*', area: 'local' };
    for (const [personId, uid] of [
      ['me', 'ended'],
      ['me', 'kept'],
      ['other', 'theirs'],
    ] as const)
      await sessions.seen({ personId, uid, authTime: new Date(), ...place });
    for (const [grantId, uid] of [
      ['g1', 'ended'],
      ['g2', 'ended'],
      ['g3', 'kept'],
    ] as const)
      await accounts.recordSiteGrant(grantId, 'me', `site-${grantId}`, {
        sid: `sid-${grantId}`,
        sessionUid: uid,
      });

    const audit = { actor: 'me', action: 'session.ended', subject: 'me' };
    const before = Math.floor(Date.now() / 1000);
    const taken = await sessions.end('me', 'ended', audit);
    const after = Math.ceil(Date.now() / 1000);
    t.deepEqual(taken.map((grant) => grant.grantId).sort(), ['g1', 'g2']);
    t.deepEqual(
      (await accounts.siteGrants('me')).map((grant) => grant.grantId),
      ['g3'],
    );
    const me = await accounts.findPersonById('me');
    if (!me) return t.fail('no person');
    t.deepEqual(Object.keys(me.endedSessions), ['ended']);
    const endedAt = me.endedSessions.ended ?? 0;
    t.true(endedAt >= before && endedAt <= after);
    t.true(signInEnded(me, { authTime: endedAt, uid: 'ended' }), 'a sign-in up to the end');
    t.true(signInEnded(me, { authTime: undefined, uid: 'ended' }), 'a sign-in of unknown time');
    t.false(signInEnded(me, { authTime: endedAt + 1, uid: 'ended' }), 'signing in again on that device');
    t.false(signInEnded(me, { authTime: endedAt, uid: 'kept' }));

    const refused = await t.throwsAsync(sessions.end('me', 'theirs', audit));
    t.is(refused?.message, 'session.not_yours');
    t.deepEqual((await accounts.findPersonById('other'))?.endedSessions, {});
  });
}
