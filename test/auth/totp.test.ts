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

test('RFC 6238 test vector (SHA-1, T = 59 s): the independent generator gives 287082', (t) => {
  // '12345678901234567890' in base32.
  t.is(totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1), '287082');
});

test('the current step and one either side are accepted, and the matching step is returned', (t) => {
  const secret = newTotpSecret();
  for (const delta of [-1, 0, 1]) {
    t.deepEqual(checkTotp(secret, totpCode(secret, STEP + delta), { lastStep: null, now: at(STEP) }), {
      ok: true,
      step: STEP + delta,
    });
  }
});

test('codes two steps away have expired (or are not yet valid)', (t) => {
  const secret = newTotpSecret();
  for (const delta of [-2, 2, -10]) {
    t.deepEqual(checkTotp(secret, totpCode(secret, STEP + delta), { lastStep: null, now: at(STEP) }), {
      ok: false,
      reason: 'mismatch',
    });
  }
});

test('a code is accepted once: the same step again, or an older step after a newer one, is a replay', (t) => {
  const secret = newTotpSecret();
  const now = at(STEP);
  t.deepEqual(checkTotp(secret, totpCode(secret, STEP), { lastStep: STEP, now }), {
    ok: false,
    reason: 'replayed',
  });
  t.deepEqual(checkTotp(secret, totpCode(secret, STEP - 1), { lastStep: STEP, now }), {
    ok: false,
    reason: 'replayed',
  });
  t.true(checkTotp(secret, totpCode(secret, STEP + 1), { lastStep: STEP, now }).ok);
});

test('wrong and malformed codes', (t) => {
  const secret = newTotpSecret();
  const right = totpCode(secret, STEP);
  const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
  t.deepEqual(checkTotp(secret, wrong, { lastStep: null, now: at(STEP) }), { ok: false, reason: 'mismatch' });
  for (const input of ['12345', 'abcdef', '', '1234567']) {
    t.deepEqual(checkTotp(secret, input, { lastStep: null }), { ok: false, reason: 'format' }, input);
  }
  t.true(checkTotp(secret, `${right.slice(0, 3)} ${right.slice(3)}`, { lastStep: null, now: at(STEP) }).ok);
});

test('secrets are 160-bit base32; the otpauth URI names the issuer and parses; the QR code is a PNG', async (t) => {
  const secret = newTotpSecret();
  t.regex(secret, /^[A-Z2-7]{32}$/);
  t.not(newTotpSecret(), secret);
  const uri = new URL(totpUri(secret, '330106********1234'));
  t.is(uri.protocol, 'otpauth:');
  t.is(uri.searchParams.get('secret'), secret);
  t.is(uri.searchParams.get('issuer'), '一通');
  t.regex(await qrDataUrl(uri.href), /^data:image\/png;base64,/);
});

test('recovery codes: ten distinct, readable, normalised whatever the case and spacing', (t) => {
  const codes = newRecoveryCodes();
  t.is(new Set(codes).size, 10);
  for (const code of codes) {
    t.regex(code, /^[a-hjkmnp-z2-9]{5}-[a-hjkmnp-z2-9]{5}$/);
    t.is(normaliseRecoveryCode(code.toUpperCase().replace('-', ' ')), code);
    t.is(normaliseRecoveryCode(code.replace('-', '')), code);
  }
  for (const garbage of ['', '123456', 'abcde-fghij-k', 'abcde-fghi0', 'abcde-fghil']) {
    t.is(normaliseRecoveryCode(garbage), undefined, garbage);
  }
});
