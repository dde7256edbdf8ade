/** Cookie signatures as Keygrip makes them, so cookies signed before the change still verify. */
import test from 'ava';
import Keygrip from 'keygrip';
import { cookieSigner } from '../../src/web/cookie-signer.ts';

const keys = ['key-of-december-0123456789abcdef', 'key-of-november-0123456789abcdef'];
const data = '_session=Xo3kP9-Zq_v2wLmN4tR8s';

test('signs as Keygrip does, and accepts what Keygrip signed with any of the keys, naming which', (t) => {
  const ours = cookieSigner(keys);
  const theirs = new Keygrip(keys);
  for (const value of [data, 'yitong.lang=en', '', '名字=值']) t.is(ours.sign(value), theirs.sign(value));
  t.is(ours.index(data, theirs.sign(data)), 0);
  // Signed before a rotation: still good, and index 1 tells Koa to sign it again with the new key.
  t.is(ours.index(data, new Keygrip([keys[1] as string]).sign(data)), 1);
  t.true(ours.verify(data, theirs.sign(data)));
});

test('refuses a tampered, shortened, lengthened or empty signature, and another cookie’s', (t) => {
  const ours = cookieSigner(keys);
  const good = ours.sign(data);
  const flipped = `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`;
  for (const bad of [flipped, good.slice(1), `${good}A`, '', ours.sign('_session=other')]) {
    t.is(ours.index(data, bad), -1, bad);
    t.false(ours.verify(data, bad));
  }
  t.is(cookieSigner(['an-unrelated-key-0123456789abcdef']).index(data, good), -1);
  t.throws(() => cookieSigner([]));
});
