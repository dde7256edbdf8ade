/**
 * The sessions repo on both backends: ending a session keeps its uid with the person (the latest
 * 20), takes exactly the grants made through it, and refuses another person's session.
 */
import test from 'ava';
import { createAccountsRepo } from '../../src/accounts/repo.ts';
import { createSessionsRepo } from '../../src/sessions/repo.ts';
import { type Backend, freshDatabase } from '../helpers/databases.ts';

for (const backend of ['postgres', 'pglite'] as Backend[]) {
  test(`${backend}: ending sessions keeps the latest 20 uids with the person and takes their grants`, async (t) => {
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
    for (let i = 0; i < 25; i++)
      await sessions.seen({ personId: 'me', uid: `s${i}`, authTime: new Date(), ...place });
    await sessions.seen({ personId: 'other', uid: 'theirs', authTime: new Date(), ...place });
    for (const [grantId, uid] of [
      ['g1', 's24'],
      ['g2', 's24'],
      ['g3', 'still-open'],
    ] as const)
      await accounts.recordSiteGrant(grantId, 'me', `site-${grantId}`, {
        sid: `sid-${grantId}`,
        sessionUid: uid,
      });

    const audit = { actor: 'me', action: 'session.ended', subject: 'me' };
    for (let i = 0; i < 24; i++) t.deepEqual(await sessions.end('me', `s${i}`, audit), []);
    const taken = await sessions.end('me', 's24', audit);
    t.deepEqual(taken.map((grant) => grant.grantId).sort(), ['g1', 'g2']);
    t.deepEqual(
      (await accounts.findPersonById('me'))?.endedSessions,
      Array.from({ length: 20 }, (_, i) => `s${i + 5}`),
      'the latest 20, newest last',
    );
    t.deepEqual(
      (await accounts.siteGrants('me')).map((grant) => grant.grantId),
      ['g3'],
    );

    const refused = await t.throwsAsync(sessions.end('me', 'theirs', audit));
    t.is(refused?.message, 'session.not_yours');
    t.deepEqual((await accounts.findPersonById('other'))?.endedSessions, []);
  });
}
