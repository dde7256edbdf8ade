/** The e-certificate identifier (GB/T 36904): its structure, the issuer's code and the MOD 37,36 check. */
import test from 'ava';
import { mod3736CheckCharacter, parseCertificateId } from '../../src/certificates/identifier.ts';
import { creditCheckCharacter } from '../../src/identity/credit-code.ts';

const issuer = `91440101MA5CYUF63${creditCheckCharacter('91440101MA5CYUF63')}`;
const body = ['11100000000013338W011', issuer, '2019081500001', '001'];
const id = (check = mod3736CheckCharacter(body.join(''))) => `1.2.156.3005.2.${body.join('.')}.${check}`;

test('ISO/IEC 7064 MOD 37,36 gives the standard’s own example', (t) => {
  t.is(mod3736CheckCharacter('A12425GABC1234002'), 'M');
});

test('a well-formed identifier parses into its parts, in any case', (t) => {
  const parsed = parseCertificateId(` ${id().toLowerCase()} `);
  t.true(parsed.ok);
  if (parsed.ok)
    t.like(parsed.value, { typeCode: body[0], issuer, serial: body[2], version: '001', id: id() });
});

test('every broken identifier is refused, naming what is wrong', (t) => {
  const wrongCheck = id(mod3736CheckCharacter(body.join('')) === '0' ? '1' : '0');
  for (const [input, error] of [
    ['1.2.156.3005.3.x', 'certificate_id.prefix'],
    [id().replace('.001.', '.0001.'), 'certificate_id.structure'],
    [id().replace('2019081500001', '2019-0815'), 'certificate_id.structure'],
    [`${id()}.X`, 'certificate_id.structure'],
    [
      id().replace(issuer, `${issuer.slice(0, 17)}${issuer[17] === '0' ? '1' : '0'}`),
      'certificate_id.issuer',
    ],
    [wrongCheck, 'certificate_id.check'],
    // One character changed anywhere in the body: the check catches it.
    [id().replace('2019081500001', '2019081500002'), 'certificate_id.check'],
  ] as const)
    t.like(parseCertificateId(input), { ok: false, error }, input);
});
