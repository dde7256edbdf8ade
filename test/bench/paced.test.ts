/** bench/paced.ts: requests due evenly, each timed from when it was due, so a server's pause counts in full. */
import { once } from 'node:events';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { pacedLoad } from '../../bench/paced.ts';

async function serve(t: { teardown(fn: () => void): void }, listener: RequestListener) {
  const server = createServer(listener).listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

test('requests arrive evenly over the second, not in a burst at its start', async (t) => {
  const arrivals: number[] = [];
  const origin = await serve(t, (_, response) => {
    arrivals.push(performance.now());
    response.write('{"a":'); // no Content-Length: a chunked answer
    response.end('1}');
  });
  const result = await pacedLoad(
    origin,
    { method: 'GET', path: '/' },
    { connections: 8, rate: 500, seconds: 1 },
  );
  t.is(result.errors, 0);
  t.true(result.steps >= 495 && result.steps <= 502, `${result.steps} answered`);
  const first = arrivals[0] as number;
  const bins = Array.from({ length: 10 }, (_, i) =>
    arrivals.filter((at) => at - first >= i * 100 && at - first < (i + 1) * 100),
  ).map((bin) => bin.length);
  // 50 due in every 100 ms; a driver that bursts puts ~500 in the first. The slack is for this
  // process being held up by the tests running beside it (what was due then goes out together).
  t.true(Math.max(...bins) <= 200, `arrivals per 100 ms: ${bins.join(' ')}`);
  t.true(bins.filter((count) => count > 0).length >= 7, `arrivals per 100 ms: ${bins.join(' ')}`);
  t.is(typeof result.driverDelayMax, 'number');
});

test("a server's pause counts for every request due during it, and non-200 answers are errors", async (t) => {
  let started = 0;
  let answered = 0;
  const held: Array<() => void> = [];
  const origin = await serve(t, (request, response) => {
    started ||= performance.now();
    const answer = () => {
      answered++;
      response.statusCode = answered % 40 === 0 ? 503 : 200;
      response.end('{}');
    };
    // Everything that arrives between 300 and 450 ms is answered at 450 ms.
    const at = performance.now() - started;
    if (at >= 300 && at < 450) {
      if (!held.length)
        setTimeout(() => {
          for (const release of held.splice(0)) release();
        }, 450 - at);
      held.push(answer);
    } else answer();
    request.resume();
  });
  const result = await pacedLoad(
    origin,
    { method: 'POST', path: '/token', body: 'grant_type=x' },
    // 400 a second: this process is both the driver and the server; one that falls behind times
    // every request late (so this file runs alone, with the failover tests).
    { connections: 4, rate: 400, seconds: 1 },
  );
  t.true(result.errors >= 9 && result.errors <= 11, `${result.errors} errors (${result.firstError})`);
  t.regex(result.firstError ?? '', /HTTP 503/);
  // ~60 requests fall due while the 4 connections wait: each is timed from when it was due.
  t.true(result.p99 >= 100, `p99 ${result.p99} ms`);
  t.true(result.max >= 140, `max ${result.max} ms`);
  t.true(result.p50 < 20, `p50 ${result.p50} ms`);
});
