/** How a session is described: browser and system from the User-Agent; the place from the address. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadConfig } from '../../src/config.ts';
import { createPlaces, describeDevice } from '../../src/sessions/devices.ts';

test('browsers and systems people in the province use are named; anything else is left out', (t) => {
  const cases: Array<[string, string]> = [
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN',
      'WeChat 8 · iPhone',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      'Safari 17 · iPhone',
    ],
    [
      'Mozilla/5.0 (Linux; Android 12; HarmonyOS; NOH-AN00) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Mobile Safari/537.36',
      'Chrome 114 · HarmonyOS',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
      'Safari 18 · macOS',
    ],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', 'Firefox 133 · Linux'],
    ['curl/8.5.0', ''],
    ['', ''],
  ];
  for (const [agent, expected] of cases) t.is(describeDevice(agent), expected, agent);
});

test('the place hides the host part; private networks are local; the table names areas', (t) => {
  const placeOf = createPlaces([
    { network: '36.24.0.0/13', area: '浙江省杭州市' },
    { network: '2408:8200::/24', area: '广东省' },
  ]);
  t.deepEqual(placeOf('36.24.117.9'), { network: '36.24.117.*', area: '浙江省杭州市' });
  t.deepEqual(placeOf('::ffff:36.24.117.9'), { network: '36.24.117.*', area: '浙江省杭州市' });
  t.deepEqual(placeOf('2408:8207:1850:2a0::1'), { network: '2408:8207:1850::/48', area: '广东省' });
  t.deepEqual(placeOf('2001:db8::1'), { network: '2001:db8:0::/48', area: null });
  t.deepEqual(placeOf('8.8.8.8'), { network: '8.8.8.*', area: null });
  t.deepEqual(placeOf('192.168.3.4'), { network: '192.168.3.*', area: 'local' });
  t.deepEqual(placeOf('::1'), { network: '::1', area: 'local' });
  t.deepEqual(placeOf('not an address'), { network: '?', area: null });
});

test('IP_AREAS_FILE: a bad line stops the start naming the line', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'yitong-areas-'));
  const file = join(dir, 'areas.csv');
  const load = (path: string) => loadConfig({ DATA_DIR: dir, IP_AREAS_FILE: path });
  await writeFile(file, '# network,area\n36.24.0.0/13, 浙江省杭州市\n\n2408:8200::/24,广东省 # 联通\n');
  t.deepEqual(load(file).ipAreas, [
    { network: '36.24.0.0/13', area: '浙江省杭州市' },
    { network: '2408:8200::/24', area: '广东省' },
  ]);
  for (const [text, message] of [
    ['36.24.0.0/33,杭州', /IP_AREAS_FILE line 1 must be "network\/bits,area" \(bad "36.24.0.0\/33"\)/],
    ['36.24.0.0/13', /line 1 must be "network\/bits,area" \(got "36.24.0.0\/13"\)/],
    ['ok\n1.2.3.0/24,甲,乙', /line 1/],
    ['1.2.3.0/24,甲\n1.2.3.0/24,甲,乙', /line 2/],
  ] as const) {
    await writeFile(file, text);
    t.throws(() => load(file), { message }, text);
  }
  t.throws(() => load(join(dir, 'missing.csv')), { message: /IP_AREAS_FILE must name a readable file/ });
});
