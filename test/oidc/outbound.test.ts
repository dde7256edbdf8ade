import { createServer } from 'node:http';
import test from 'ava';
import { createOutboundFetch, createOutboundPolicy } from '../../src/oidc/outbound.ts';

test('production policy: public addresses pass; loopback, private and link-local do not, unless allowed', (t) => {
  const production = createOutboundPolicy({ allowedNetworks: [], allowLoopback: false });
  t.true(production('8.8.8.8'));
  t.true(production('2400:3200::1'));
  for (const address of [
    '127.0.0.1',
    '::1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '::ffff:127.0.0.1',
    'fd00::1',
    '0.0.0.0',
  ]) {
    t.false(production(address), address);
  }
  const intranet = createOutboundPolicy({ allowedNetworks: ['10.20.0.0/16'], allowLoopback: false });
  t.true(intranet('10.20.3.4'));
  t.false(intranet('10.21.3.4'));
  t.false(intranet('127.0.0.1'));
});

test('development policy allows loopback', (t) => {
  const development = createOutboundPolicy({ allowedNetworks: [], allowLoopback: true });
  t.true(development('127.0.0.1'));
  t.true(development('::1'));
  t.false(development('192.168.0.1'));
});

test('the fetch checks the address before connecting: a denied target never sees a connection (no port probing by timing)', async (t) => {
  let received = 0;
  let connections = 0;
  const server = createServer((_req, res) => {
    received++;
    res.end('ok');
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const { port } = server.address() as { port: number };

  const denied = createOutboundFetch(createOutboundPolicy({ allowedNetworks: [], allowLoopback: false }));
  const error = await t.throwsAsync(denied(`http://localhost:${port}/`));
  t.regex(String((error as Error & { cause?: Error }).cause?.message ?? error?.message), /not allowed/);
  await t.throwsAsync(denied(`http://127.0.0.1:${port}/`), undefined, 'an address literal too');
  t.is(received, 0);
  t.is(connections, 0, 'not even a TCP handshake');

  const allowed = createOutboundFetch(
    createOutboundPolicy({ allowedNetworks: ['127.0.0.0/8'], allowLoopback: false }),
  );
  t.is(await (await allowed(`http://localhost:${port}/`)).text(), 'ok');
  t.is(received, 1);
});
