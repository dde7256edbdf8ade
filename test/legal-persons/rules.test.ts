/** The rules of legal persons that need no storage. */
import test from 'ava';
import { blockOf, parseClients, today } from '../../src/legal-persons/rules.ts';

test('authorisation end dates are read in Beijing time: 30 June has ended at 00:30 on 1 July there (16:30 UTC)', (t) => {
  const justAfterMidnight = new Date('2026-06-30T16:30:00Z');
  t.is(today(justAfterMidnight), '2026-07-01');
  t.is(today(new Date('2026-06-30T15:59:00Z')), '2026-06-30');
  const membership = { personId: 'p', role: 'agent' as const, clientIds: null, validUntil: '2026-06-30' };
  t.is(blockOf({ status: 'active' }, membership, 'tax', justAfterMidnight), 'expired');
});

test('site limits take a manifest’s ids and the ids the engine gives self-registered sites', async (t) => {
  const registered = new Set(['tax', 'V1StGXR8_Z5jdHi6B-myT']);
  const exists = async (id: string) => registered.has(id);
  t.deepEqual(await parseClients('tax, V1StGXR8_Z5jdHi6B-myT', exists), ['tax', 'V1StGXR8_Z5jdHi6B-myT']);
  await t.throwsAsync(parseClients('gone', exists), { message: 'legal_person.unknown_client' });
});
