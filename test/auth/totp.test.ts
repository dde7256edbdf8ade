import test from 'ava';
import {
  checkTotp,
  newRecoveryCodes,
  newTotpSecret,
  normaliseRecoveryCode,
  qrDataUrl,
  totpUri,
} from '../../src/auth/totp.ts';
import { totpCode } from '../helpers/totp.ts';

const STEP = 59_000_000;
const at = (step: number) => step * 30_000 + 12_000; // 12 s into the step
/** RFC 6238's SHA-1 seed, the ASCII '12345678901234567890', in base32. */
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
/** RFC 6238 Appendix B, SHA-1: Unix time (s) → 8-digit code; six-digit apps show the last six. */
const RFC_VECTORS: [number, string][] = [
  [59, '94287082'],
  [1_111_111_109, '07081804'],
  [1_111_111_111, '14050471'],
  [1_234_567_890, '89005924'],
  [2_000_000_000, '69279037'],
  [20_000_000_000, '65353130'],
];

test('RFC 6238 test vectors (SHA-1): the independent generator and checkTotp both agree', (t) => {
  for (const [seconds, eight] of RFC_VECTORS) {
    const step = Math.floor(seconds / 30);
    t.is(totpCode(RFC_SECRET, step), eight.slice(-6), `T = ${seconds}`);
    t.deepEqual(checkTotp(RFC_SECRET, eight.slice(-6), { lastStep: null, now: seconds * 1000 }), {
      ok: true,
      step,
    });
  }
  t.is(totpCode(RFC_SECRET, 1), '287082');
});

test('the current step and one either side are accepted, and the matching step is returned', (t) => {
  const secret = newTotpSecret();
  for (const now of [STEP * 30_000, at(STEP), STEP * 30_000 + 29_999]) {
    for (const delta of [-1, 0, 1]) {
      t.deepEqual(checkTotp(secret, totpCode(secret, STEP + delta), { lastStep: null, now }), {
        ok: true,
        step: STEP + delta,
      });
    }
  }
});

test('codes two or more steps away have expired (or are not yet valid)', (t) => {
  const secret = newTotpSecret();
  for (const now of [STEP * 30_000, at(STEP), STEP * 30_000 + 29_999]) {
    for (const delta of [-2, 2, -10]) {
      t.deepEqual(checkTotp(secret, totpCode(secret, STEP + delta), { lastStep: null, now }), {
        ok: false,
        reason: 'mismatch',
      });
    }
  }
});

test('a code is accepted once: the same code again, or an older one after a newer one, is a replay', (t) => {
  const secret = newTotpSecret();
  const now = at(STEP);
  const first = checkTotp(secret, totpCode(secret, STEP), { lastStep: null, now });
  if (!first.ok) return t.fail('the current code was refused');
  t.deepEqual(checkTotp(secret, totpCode(secret, STEP), { lastStep: first.step, now }), {
    ok: false,
    reason: 'replayed',
  });
  t.deepEqual(checkTotp(secret, totpCode(secret, STEP - 1), { lastStep: first.step, now }), {
    ok: false,
    reason: 'replayed',
  });
  t.deepEqual(checkTotp(secret, totpCode(secret, STEP + 1), { lastStep: first.step, now }), {
    ok: true,
    step: STEP + 1,
  });
});

test('wrong and malformed codes; spaces, hyphens and full-width digits are read as typed numbers are', (t) => {
  const secret = newTotpSecret();
  const now = at(STEP);
  const window = [-1, 0, 1].map((delta) => totpCode(secret, STEP + delta));
  const wrong = ['000000', '111111', '222222', '333333'].find((code) => !window.includes(code)) as string;
  t.deepEqual(checkTotp(secret, wrong, { lastStep: null, now }), { ok: false, reason: 'mismatch' });
  for (const input of ['12345', 'abcdef', '', '1234567', '１２３４５', '12 34 5']) {
    t.deepEqual(checkTotp(secret, input, { lastStep: null, now }), { ok: false, reason: 'format' }, input);
  }
  const right = totpCode(secret, STEP);
  for (const typed of [
    `${right.slice(0, 3)} ${right.slice(3)}`,
    `${right.slice(0, 3)}-${right.slice(3)}`,
    ` ${right}\n`,
    [...right].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join(''),
    `${right.slice(0, 3)}\u3000${right.slice(3)}`,
  ]) {
    t.deepEqual(checkTotp(secret, typed, { lastStep: null, now }), { ok: true, step: STEP }, typed);
  }
});

test('secrets are 160-bit base32; the otpauth URI names the issuer and parses; the QR code is a PNG', async (t) => {
  const secret = newTotpSecret();
  t.regex(secret, /^[A-Z2-7]{32}$/);
  t.not(newTotpSecret(), secret);
  const uri = new URL(totpUri(secret, '330106********1234'));
  t.is(uri.protocol, 'otpauth:');
  t.is(uri.host, 'totp');
  t.is(decodeURIComponent(uri.pathname), '/一通:330106********1234');
  t.deepEqual(Object.fromEntries(uri.searchParams), {
    secret,
    issuer: '一通',
    algorithm: 'SHA1',
    digits: '6',
    period: '30',
  });
  t.regex(await qrDataUrl(uri.href), /^data:image\/png;base64,/);
});

test('a label with a colon, space or ampersand stays one encoded account name', (t) => {
  const uri = totpUri(newTotpSecret(), 'a:b c&d');
  t.true(uri.startsWith('otpauth://totp/%E4%B8%80%E9%80%9A:a%3Ab%20c%26d?secret='));
  t.is(new URL(uri).searchParams.get('issuer'), '一通');
});

test('recovery codes: ten distinct, 5 bits a character from the whole alphabet, no look-alikes', (t) => {
  const codes = newRecoveryCodes();
  t.is(new Set(codes).size, 10);
  for (const code of codes) t.regex(code, /^[02-9a-hjkmnp-z]{5}-[02-9a-hjkmnp-z]{5}$/);
  const seen = new Set(Array.from({ length: 100 }, newRecoveryCodes).flat().join('').replaceAll('-', ''));
  t.is(seen.size, 32);
});

test('recovery codes are normalised whatever the case, spacing, or o typed for 0', (t) => {
  for (const code of newRecoveryCodes()) {
    t.is(normaliseRecoveryCode(code.toUpperCase().replace('-', ' ')), code);
    t.is(normaliseRecoveryCode(code.replace('-', '')), code);
  }
  t.is(normaliseRecoveryCode('ABCDE FGHJK'), 'abcde-fghjk');
  t.is(normaliseRecoveryCode(' abc de-fg hjk '), 'abcde-fghjk');
  t.is(normaliseRecoveryCode('ABCDO-2345O'), 'abcd0-23450');
  t.is(
    normaliseRecoveryCode('ＡＢＣＤＥ－ｆｇｈｊｋ'),
    'abcde-fghjk',
    'full-width, as a Chinese input method types it',
  );
  for (const garbage of [
    '',
    '123456',
    'abcde-fghj',
    'abcde-fghjk-m',
    'abcde-fghi2',
    'abcde-fghl2',
    'abcde-fgh12',
    'abcde_fghjk',
    'abcdé-fghjk',
  ]) {
    t.is(normaliseRecoveryCode(garbage), undefined, garbage);
  }
});
