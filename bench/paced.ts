/**
 * An open-loop paced driver for one fixed request, light enough to pace the fastest endpoints
 * (tens of thousands a second from one core, where undici tops out near 10,000).
 *
 * A request is due every 1/rate s. It goes out on a free kept-alive connection and is timed from
 * when it was due; one that finds every connection busy waits, and the wait counts, so a server's
 * pause shows in full (no coordinated omission). The driver's own longest event-loop delay comes
 * with the result, so a tail can be told from the driver's pauses.
 *
 * @example
 *   const result = await pacedLoad(new URL('http://127.0.0.1:4700'), { method: 'GET', path: '/jwks' },
 *     { connections: 32, rate: 20_000, seconds: 5 });
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type LoadResult, summary } from './driver.ts';

export interface RawRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

interface Connection {
  socket: Socket;
  /** When the request in flight was due; undefined when the connection is free. */
  due?: number;
  received: Buffer;
}

export async function pacedLoad(
  origin: URL,
  request: RawRequest,
  options: { connections: number; rate: number; seconds: number },
): Promise<LoadResult> {
  const body = request.body ?? '';
  const bytes = Buffer.from(
    `${request.method} ${request.path} HTTP/1.1\r\n${Object.entries({
      host: origin.host,
      ...request.headers,
      ...(body && { 'content-length': String(Buffer.byteLength(body)) }),
    })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')}\r\n${body}`,
  );
  const latencies: number[] = [];
  const waiting: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const fail = (message: string) => {
    errors++;
    firstError ??= message;
  };

  const free: Connection[] = [];
  const all: Connection[] = [];
  let inFlight = 0;
  const send = (connection: Connection, due: number) => {
    inFlight++;
    connection.due = due;
    connection.socket.write(bytes);
  };
  const onData = (connection: Connection, chunk: Buffer) => {
    connection.received = connection.received.length ? Buffer.concat([connection.received, chunk]) : chunk;
    const complete = responseLength(connection.received);
    if (complete === undefined || connection.received.length < complete) return;
    const status = Number(connection.received.toString('latin1', 9, 12));
    if (status === 200) latencies.push(performance.now() - (connection.due as number));
    else fail(`HTTP ${status}`);
    connection.received = Buffer.alloc(0);
    connection.due = undefined;
    inFlight--;
    const next = waiting.shift();
    if (next === undefined) free.push(connection);
    else send(connection, next);
  };
  await Promise.all(
    Array.from(
      { length: options.connections },
      () =>
        new Promise<void>((resolve, reject) => {
          const connection: Connection = {
            socket: connect(Number(origin.port), origin.hostname, () => resolve()),
            received: Buffer.alloc(0),
          };
          connection.socket.setNoDelay(true);
          connection.socket.on('error', reject); // before the connection: fails the run; after: 'close' follows
          connection.socket.on('data', (chunk) => onData(connection, chunk));
          // A connection the server closes is not used again; its request in flight failed.
          connection.socket.once('close', () => {
            const at = free.indexOf(connection);
            if (at >= 0) free.splice(at, 1);
            if (connection.due === undefined) return;
            connection.due = undefined;
            inFlight--;
            fail('connection closed by the server');
          });
          free.push(connection);
          all.push(connection);
        }),
    ),
  );

  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const interval = 1000 / options.rate;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  let next = started;
  // Every millisecond (the timers' resolution): queue what has come due, send what can go.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = Math.min(performance.now(), deadline);
      for (; next <= now; next += interval) waiting.push(next);
      while (waiting.length && free.length) send(free.pop() as Connection, waiting.shift() as number);
      if (now < deadline) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  // The requests due before the deadline are all answered (or time out after 10 s).
  const drained = performance.now() + 10_000;
  while ((waiting.length || inFlight) && free.length + inFlight > 0 && performance.now() < drained)
    await new Promise((resolve) => setTimeout(resolve, 5));
  delay.disable();
  const unanswered = waiting.length + inFlight;
  for (const connection of all) connection.socket.destroy();
  if (unanswered) fail(`${unanswered} not answered within 10 s of the end`);
  return summary(latencies, { errors, firstError }, (performance.now() - started) / 1000, delay);
}

/** Runs `pacedLoad` in a process of its own (see the end of this file). */
export async function pacedLoadAlone(...args: Parameters<typeof pacedLoad>): Promise<LoadResult> {
  const [origin, request, options] = args;
  const child = spawn(process.execPath, [
    import.meta.filename,
    JSON.stringify({ origin: origin.href, request, options }),
  ]);
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.pipe(process.stderr);
  const [code] = await once(child, 'close'); // after its output is all read
  if (code !== 0) throw new Error(`the paced driver exited with ${code}`);
  return JSON.parse(out);
}

/** The whole response's length once its head is in (Content-Length or a chunked body's end). */
function responseLength(received: Buffer): number | undefined {
  const headEnd = received.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const head = received.toString('latin1', 0, headEnd).toLowerCase();
  const length = head.match(/\r\ncontent-length: *(\d+)/)?.[1];
  if (length !== undefined) return headEnd + 4 + Number(length);
  if (head.includes('\r\ntransfer-encoding: chunked'))
    return received.subarray(-5).toString('latin1') === '0\r\n\r\n' ? received.length : undefined;
  return headEnd + 4; // no body (204, 304)
}

/**
 * `node bench/paced.ts '<JSON of pacedLoad's three arguments>'` prints the result as JSON. The
 * bench runs the paced load in a process of its own: the bench's heap (40–50 MB) took 11–15 ms
 * full collections, and the driver's loop was late by up to 61 ms, all of it counted as latency.
 */
if (import.meta.main) {
  const { origin, request, options } = JSON.parse(process.argv[2] as string);
  process.stdout.write(JSON.stringify(await pacedLoad(new URL(origin), request, options)));
}
