/** The business registration source: over HTTP (a real server) and as a development file. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { CreditCode } from '../../src/identity/credit-code.ts';
import type { IdNumber } from '../../src/identity/id-number.ts';
import { createHttpRegistry, loadFileRegistry } from '../../src/legal-persons/registry.ts';
import { newCitizen, newCreditCode } from '../helpers/people.ts';

const person = newCitizen();
const claim = {
  creditCode: newCreditCode() as CreditCode,
  idNumber: person.idNumber as IdNumber,
  name: person.name,
};

test('http: the source gets the code, number and name with the token; match (with its name), mismatch, and anything else is unavailable', async (t) => {
  const answers = [
    [200, JSON.stringify({ match: true, name: '登记名称有限公司' })],
    [200, JSON.stringify({ match: false })],
    [500, '{}'],
    [200, 'not json'],
    [200, JSON.stringify({ match: 'yes' })],
  ] as const;
  const received: string[] = [];
  let next = 0;
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    received.push(`${req.headers.authorization} ${body}`);
    const [status, text] = answers[next++] ?? [500, ''];
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const registry = createHttpRegistry({
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    token: 't0ken',
  });
  t.deepEqual(await registry.check(claim), { outcome: 'match', entityName: '登记名称有限公司' });
  t.deepEqual(await registry.check(claim), { outcome: 'mismatch' });
  for (let i = 0; i < 3; i++) t.deepEqual(await registry.check(claim), { outcome: 'unavailable' });
  t.is(
    received[0],
    `Bearer t0ken ${JSON.stringify({ credit_code: claim.creditCode, representative_id_number: claim.idNumber, representative_name: claim.name })}`,
  );
  const closed = createHttpRegistry({ url: 'http://127.0.0.1:1/', timeoutMs: 500 });
  t.deepEqual(await closed.check(claim), { outcome: 'unavailable' });
});

test('file: a record matches only its code, number and name; a bad file fails at start naming the record, never the number', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'registry-'));
  const good = join(dir, 'good.json');
  await writeFile(
    good,
    JSON.stringify([
      {
        credit_code: claim.creditCode,
        name: '甲公司',
        representative_id_number: claim.idNumber,
        representative_name: claim.name,
      },
    ]),
  );
  const registry = await loadFileRegistry(good);
  t.deepEqual(await registry.check(claim), { outcome: 'match', entityName: '甲公司' });
  t.deepEqual(await registry.check({ ...claim, name: '别人' }), { outcome: 'mismatch' });
  t.deepEqual(await registry.check({ ...claim, creditCode: newCreditCode() as CreditCode }), {
    outcome: 'mismatch',
  });
  const bad = join(dir, 'bad.json');
  await writeFile(bad, JSON.stringify([{ credit_code: 'nope', representative_id_number: claim.idNumber }]));
  const error = await t.throwsAsync(loadFileRegistry(bad));
  t.regex(
    error?.message ?? '',
    /^BUSINESS_REGISTRY_FILE \(.*\): record 0: credit_code fails the rule credit_code\.length/,
  );
  t.false(error?.message.includes(claim.idNumber));
  await t.throwsAsync(loadFileRegistry(join(dir, 'missing.json')), {
    message: /^BUSINESS_REGISTRY_FILE \(.*\): must name a readable file \(ENOENT\)$/,
  });
});
