/**
 * The README's security matrix, checked cell by cell against a running Yitong: the table is
 * read from README.md, so the documentation and the behaviour cannot drift apart.
 */
import { readFile } from 'node:fs/promises';
import test from 'ava';
import { creditCheckCharacter } from '../../src/identity/credit-code.ts';
import { adminApi, departmentToken } from '../helpers/admin.ts';
import { newCitizen } from '../helpers/people.ts';
import { REDIRECT_URI } from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
test.before(async () => {
  yitong = await startYitong('postgres');
});
test.after.always(() => yitong?.stop());

/** The rows between the markers: actor → target → 'read' | 'read, change' | '—'. */
async function matrix() {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const block = readme.split('<!-- security-matrix -->')[1]?.split('<!-- /security-matrix -->')[0] ?? '';
  const [header = [], , ...rows] = block
    .trim()
    .split('\n')
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  return rows.map(([actor = '', ...cells]) => ({
    actor,
    cells: cells.map((cell, i) => ({ target: header[i + 1] ?? '', cell })),
  }));
}

function creditCode(region: string) {
  const first17 = `91${region}${Math.random()
    .toString(36)
    .slice(2, 11)
    .toUpperCase()
    .replace(/[IOZSV]/g, 'A')}`;
  return `${first17}${creditCheckCharacter(first17)}`;
}

type Kind = 'person' | 'entity' | 'site';
type Target = { kind: Kind; id: string };

async function person(born: string, grant?: { role: string; region: string }): Promise<Target> {
  const citizen = newCitizen(born);
  const id = await yitong.createCitizen(citizen);
  if (grant) await yitong.server.container.admin.addAdmin(citizen.idNumber, grant.role, grant.region);
  return { kind: 'person', id };
}

async function entity(region: string): Promise<Target> {
  const representative = newCitizen(region);
  await yitong.createCitizen(representative);
  const code = creditCode(region);
  await yitong.server.container.legalPersons.createByOperator({
    creditCode: code,
    name: `单位${region}`,
    representativeIdNumber: representative.idNumber,
  });
  return { kind: 'entity', id: code };
}

async function site(region: string, scope = 'openid profile'): Promise<Target> {
  const { clientId } = await yitong.addClient({
    client_name: `网站${region}`,
    department: '部门',
    region_code: region,
    redirect_uris: [REDIRECT_URI],
    scope,
  });
  return { kind: 'site', id: clientId };
}

const TARGETS: Record<string, () => Promise<Target>> = {
  'citizen 440106': () => person('440106'),
  'citizen 440304': () => person('440304'),
  'county auditor': () => person('440106', { role: 'auditor', region: '440106' }),
  'city admin': () => person('440106', { role: 'admin', region: '440100' }),
  'province admin': () => person('440106', { role: 'admin', region: '440000' }),
  'entity 440106': () => entity('440106'),
  'entity 440304': () => entity('440304'),
  'site 440106': () => site('440106'),
  'site 440000': () => site('440000'),
  'admin site 440100': () => site('440100', 'openid admin'),
};

/** What the admin API answers an actor's read and change of a target: allowed or not. */
async function tryOn(token: string, target: Target) {
  const call = (path: string, method = 'GET', body?: unknown) =>
    adminApi(yitong, token, path, { method, body });
  if (target.kind === 'person')
    return {
      read: (await call(`/people/${target.id}`)).status === 200,
      change: (await call(`/people/${target.id}/sign-out`, 'POST')).status === 204,
    };
  if (target.kind === 'entity') {
    const found = (await (await call(`/legal-persons?q=${target.id}`)).json()) as { items: unknown[] };
    return {
      read: found.items.length === 1,
      change:
        (await call(`/legal-persons/${target.id}/status`, 'POST', { action: 'reactivate' })).status === 200,
    };
  }
  return {
    read: (await call(`/clients/${target.id}`)).status === 200,
    change: (await call(`/clients/${target.id}`, 'PATCH', { redirect_uris: [REDIRECT_URI] })).status === 200,
  };
}

test('every cell of the README’s security matrix holds', async (t) => {
  const rows = await matrix();
  t.is(rows.length, 5, 'the table is where the README says');
  const targets = Object.fromEntries(
    await Promise.all(Object.entries(TARGETS).map(async ([name, make]) => [name, await make()] as const)),
  );
  for (const { actor, cells } of rows) {
    const [, role = '', region = ''] = /^(?:\w+) (auditor|admin) (\d{6})$/.exec(actor) ?? [];
    const token = await departmentToken(yitong, region, role === 'admin' ? 'admin' : 'admin:read');
    for (const { target, cell } of cells) {
      const subject = targets[target];
      if (!subject) return t.fail(`no target named ${target}`);
      const allowed = await tryOn(token, subject);
      const expected = { read: cell.includes('read'), change: cell.includes('change') };
      t.deepEqual(allowed, expected, `${actor} → ${target}`);
    }
  }
});
