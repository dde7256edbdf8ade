import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { checkCharacter, type IdNumber } from '../../src/identity/id-number.ts';
import { createHttpVerifier, loadFileVerifier } from '../../src/identity/verifier.ts';
import { freePort } from '../helpers/yitong.ts';

const idNumber = '11010519491231002X' as IdNumber;
const unknownNumber = `44010619800101001${checkCharacter('44010619800101001')}` as IdNumber;

/** A real HTTP authority on a free port, answering with `handler`; returns its URL and what it received. */
async function authority(
  t: { teardown(fn: () => unknown): void },
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
) {
  const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    received.push({ headers: req.headers, body });
    handler(req, res, body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/verify`, received };
}

const answer = (status: number, body: string) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
};

test('http: the authority receives the number, the name and the token; its yes and no are match and mismatch', async (t) => {
  const { url, received } = await authority(t, (_req, res, body) => {
    answer(200, JSON.stringify({ match: JSON.parse(body).name === '张三' }))(_req, res);
  });
  const verifier = createHttpVerifier({ url, token: 's3cret' });
  t.is(verifier.kind, 'http');
  t.is(await verifier.verify({ idNumber, name: ' 张三 ' }), 'match');
  t.is(await verifier.verify({ idNumber, name: '李四' }), 'mismatch');
  t.deepEqual(JSON.parse(received[0]?.body ?? ''), { id_number: idNumber, name: '张三' });
  t.is(received[0]?.headers.authorization, 'Bearer s3cret');
  t.is(received[0]?.headers['content-type'], 'application/json');
});

for (const [what, status, body] of [
  ['a 500', 500, '{"match":true}'],
  ['a body that is not JSON', 200, 'yes'],
  ['a match that is not a boolean', 200, '{"match":"yes"}'],
  ['no match field', 200, '{}'],
] as const) {
  test(`http: ${what} is unavailable, never a match`, async (t) => {
    const { url, received } = await authority(t, answer(status, body));
    t.is(await createHttpVerifier({ url }).verify({ idNumber, name: '张三' }), 'unavailable');
    t.is(received[0]?.headers.authorization, undefined, 'no token configured, no authorization header');
  });
}

test('http: a source that does not answer in time, or refuses the connection, is unavailable', async (t) => {
  const { url } = await authority(t, () => {});
  t.is(await createHttpVerifier({ url, timeoutMs: 200 }).verify({ idNumber, name: '张三' }), 'unavailable');
  const closed = `http://127.0.0.1:${await freePort()}/verify`;
  t.is(await createHttpVerifier({ url: closed }).verify({ idNumber, name: '张三' }), 'unavailable');
});

test('http: a source that streams without end is unavailable once it passes 64 KiB, not read to its end', async (t) => {
  let sent = 0;
  const { url } = await authority(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"match":true,"padding":"');
    const chunk = 'x'.repeat(64 * 1024);
    const more = () => {
      // Up to 64 MiB unless the reader stops.
      while (sent < 1024) if (!res.write(chunk, () => sent++)) return res.once('drain', more);
      res.end('"}');
    };
    res.on('close', () => res.removeAllListeners('drain'));
    more();
  });
  t.is(await createHttpVerifier({ url }).verify({ idNumber, name: '张三' }), 'unavailable');
  t.true(sent < 64, `stopped reading early (${sent} chunks of 64 KiB sent)`);
});

async function file(content: string) {
  const path = join(await mkdtemp(join(tmpdir(), 'yitong-verifier-')), 'authority.json');
  await writeFile(path, content);
  return path;
}

test('file: match by normalised number and name; another name or an unknown number is a mismatch', async (t) => {
  const verifier = await loadFileVerifier(
    await file(JSON.stringify([{ id_number: '11010519491231002x', name: '欧阳  娜娜' }])),
  );
  t.is(verifier.kind, 'file');
  t.is(await verifier.verify({ idNumber, name: '欧阳 娜娜' }), 'match');
  t.is(await verifier.verify({ idNumber, name: '欧阳娜' }), 'mismatch');
  t.is(await verifier.verify({ idNumber: unknownNumber, name: '欧阳 娜娜' }), 'mismatch');
});

test('file: a bad file fails at start, naming the problem and never echoing a number', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['not json', /not valid JSON/],
    ['{"id_number":"x"}', /JSON array/],
    ['[{"id_number":"11010519491231002X"}]', /record 0 has no name/],
    [
      '[{"id_number":"11010519491231002X","name":"a"},{"id_number":"110105194912310020","name":"b"}]',
      /record 1: id_number fails the rule id_number\.check/,
    ],
  ];
  for (const [content, message] of cases) {
    const error = await t.throwsAsync(loadFileVerifier(await file(content)));
    t.regex(error?.message ?? '', message);
    t.regex(error?.message ?? '', /^IDENTITY_VERIFIER_FILE \(/);
    t.notRegex(error?.message ?? '', /\d{17}/);
  }
  await t.throwsAsync(loadFileVerifier('/nonexistent/authority.json'), {
    message:
      /^IDENTITY_VERIFIER_FILE \(\/nonexistent\/authority\.json\): must name a readable file \(ENOENT\)$/,
  });
});
