/**
 * The per-process cache of people: it serves only while the node hears every change, and a
 * change drops what it holds, even a read that began before the change.
 */
import test from 'ava';
import { createPersonCache } from '../../src/accounts/person-cache.ts';

function counting() {
  let version = 0;
  let reads = 0;
  return {
    change: () => version++,
    load: async () => {
      reads++;
      return { version };
    },
    reads: () => reads,
  };
}

test('reads every time until it follows the changes, and again once it has lost them', async (t) => {
  const people = createPersonCache<{ version: number }>();
  const source = counting();
  await people.get('p', source.load);
  await people.get('p', source.load);
  t.is(source.reads(), 2, 'not following: no cache');
  people.follow(true);
  await people.get('p', source.load);
  await people.get('p', source.load);
  t.is(source.reads(), 3, 'following: read once');
  people.follow(false);
  await people.get('p', source.load);
  t.is(source.reads(), 4);
});

test('a change drops the person, and a read begun before it is not kept', async (t) => {
  const people = createPersonCache<{ version: number }>();
  people.follow(true);
  const source = counting();
  t.is((await people.get('p', source.load)).version, 0);
  source.change();
  t.is((await people.get('p', source.load)).version, 0, 'unheard changes: the copy stays');
  people.forget('p');
  t.is((await people.get('p', source.load)).version, 1);

  // A read under way when the change lands answers its caller but is not kept.
  people.forget('p');
  const inFlight = people.get('p', source.load);
  source.change();
  people.forget('q'); // any change
  t.is((await inFlight).version, 1);
  t.is((await people.get('p', source.load)).version, 2);
});

test('a failed read is not kept', async (t) => {
  const people = createPersonCache<number>();
  people.follow(true);
  await t.throwsAsync(people.get('p', () => Promise.reject(new Error('database down'))));
  t.is(await people.get('p', async () => 7), 7);
});
