import test from 'ava';
import { acrFor, amrFor, requiredAcr, requiredAcrFor } from '../../src/auth/strength.ts';

test('acr follows the methods that succeeded; amr adds mfa for two factors', (t) => {
  t.is(acrFor(['pwd']), 'urn:yitong:acr:pwd');
  t.is(acrFor(['pwd', 'otp']), 'urn:yitong:acr:mfa');
  t.is(acrFor(['hwk']), 'urn:yitong:acr:phr');
  t.is(acrFor(['pwd', 'swk']), 'urn:yitong:acr:phr');
  t.deepEqual(amrFor(['pwd', 'otp']), ['pwd', 'otp', 'mfa']);
  t.deepEqual(amrFor(['hwk']), ['hwk']);
});

test('acr_values: the weakest listed value of ours counts; unknown values are ignored', (t) => {
  t.is(requiredAcr('urn:yitong:acr:phr urn:yitong:acr:mfa'), 'urn:yitong:acr:mfa');
  t.is(requiredAcr('urn:other:gold'), undefined);
  t.is(requiredAcr(undefined), undefined);
  t.is(requiredAcr('constructor __proto__ toString'), undefined, 'never an inherited property');
});

test('admin scopes raise what a request demands to mfa, whatever acr_values say', (t) => {
  t.is(requiredAcrFor({ scope: 'openid profile' }), undefined);
  t.is(requiredAcrFor({ scope: 'openid admin', acr_values: 'urn:yitong:acr:pwd' }), 'urn:yitong:acr:mfa');
  t.is(requiredAcrFor({ scope: 'openid admin:read' }), 'urn:yitong:acr:mfa');
  t.is(requiredAcrFor({ scope: 'openid admin', acr_values: 'urn:yitong:acr:phr' }), 'urn:yitong:acr:phr');
  // A site's registered default_acr_values are a floor: a request cannot ask for less.
  t.is(requiredAcrFor({ acr_values: 'urn:yitong:acr:pwd' }, ['urn:yitong:acr:mfa']), 'urn:yitong:acr:mfa');
  t.is(requiredAcrFor({}, ['urn:yitong:acr:mfa', 'urn:yitong:acr:phr']), 'urn:yitong:acr:mfa');
  t.is(requiredAcrFor({ acr_values: 'urn:yitong:acr:phr' }, ['urn:yitong:acr:mfa']), 'urn:yitong:acr:phr');
});
