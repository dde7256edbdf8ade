/**
 * A node that heard of a change it could not load (its database busy or down just then) tries
 * again by itself: no other change may come to bring it. Here the upstream identity providers,
 * whose table is locked past the statement timeout when the change is heard.
 */
import test from 'ava';
import { sql } from 'kysely';
import { notifyChange } from '../../src/db/changes.ts';
import { upstreamsDir } from '../helpers/upstream-manifest.ts';
import { eventually, pause } from '../helpers/wait.ts';
import { startYitong } from '../helpers/yitong.ts';

test('an upstreams change heard while the database could not answer is loaded when it can, within 10 s', async (t) => {
  const yitong = await startYitong('postgres', { DATABASE_STATEMENT_TIMEOUT_MS: '1000' });
  t.teardown(() => yitong.stop());
  const { container } = yitong.server;
  await container.upstreamsStore.sync(upstreamsDir(), 'test');
  await eventually('the upstream is live', () => container.upstreams.has('national'));

  const { db } = container.database;
  await db.transaction().execute(async (trx) => {
    await sql`LOCK TABLE upstreams IN ACCESS EXCLUSIVE MODE`.execute(trx);
    await sql`DELETE FROM upstreams`.execute(trx);
    // Heard now, on another connection: the node's reload waits on the lock and times out.
    await notifyChange(db, { kind: 'upstreams' });
    await pause(1500);
  });
  t.true(container.upstreams.has('national'), 'not loaded yet: the reload failed');
  await eventually('loaded again by itself', () => !container.upstreams.has('national'), 15_000);
  t.pass();
});
