/**
 * HTTP for the benchmark: one undici Pool per target, cookie jars per virtual user, and the
 * headers a TLS-terminating proxy would add (Yitong runs in production mode behind one).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';

export interface Target {
  name: 'yitong' | 'bare';
  /** Where to connect: http://127.0.0.1:port. */
  origin: string;
  /** The issuer the target believes it has (Host and X-Forwarded-Proto follow it). */
  issuer: string;
  pool: Pool;
}

export function createTarget(name: Target['name'], origin: string, issuer: string): Target {
  return {
    name,
    origin,
    issuer,
    pool: new Pool(origin, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 }),
  };
}

export interface Response {
  status: number;
  location: string | undefined;
  body: string;
}

export class Jar {
  readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
  store(setCookie: string | string[] | undefined) {
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const pair = line.split(';', 1)[0] ?? '';
      const index = pair.indexOf('=');
      const name = pair.slice(0, index);
      const value = pair.slice(index + 1);
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/**
 * One request through the pool's dispatcher, the body gathered from its chunks. Not
 * `pool.request()` with `body.text()`: undici 8.12's body stream kept every response alive through
 * the driver's young-generation collections (12–20 MB promoted each, 20–36 ms pauses, about one a
 * second during the flows), and the driver counted those pauses as the server's latency. Without
 * the stream a collection keeps 0.3–0.4 MB and pauses 2 ms (RESULTS.md, sixth pass).
 */
export function send(
  target: Target,
  path: string,
  init: {
    method?: 'GET' | 'POST';
    headers?: Record<string, string>;
    form?: Record<string, string>;
    jar?: Jar;
  } = {},
): Promise<Response> {
  const issuer = new URL(target.issuer);
  const headers: Record<string, string> = {
    host: issuer.host,
    'x-forwarded-proto': issuer.protocol.slice(0, -1),
    accept: 'application/json, text/html',
    ...init.headers,
  };
  if (init.jar?.cookies.size) headers.cookie = init.jar.header();
  let body: string | undefined;
  if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  return new Promise((resolve, reject) => {
    let status = 0;
    let answered: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    target.pool.dispatch(
      { path, method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body },
      {
        onRequestStart() {},
        onResponseStart(_, statusCode, responseHeaders) {
          status = statusCode;
          answered = responseHeaders;
        },
        onResponseData: (_, chunk) => chunks.push(chunk),
        onResponseEnd() {
          init.jar?.store(answered['set-cookie']);
          const location = answered.location as string | undefined;
          resolve({ status, location, body: Buffer.concat(chunks).toString() });
        },
        onResponseError: (_, error) => reject(error),
      },
    );
  });
}

/** The path (and query) of a Location, whichever host it names. */
export function pathOf(location: string): string {
  const url = new URL(location, 'http://x');
  return `${url.pathname}${url.search}`;
}

export function expectStatus(response: Response, ...statuses: number[]): Response {
  if (!statuses.includes(response.status))
    throw new Error(`HTTP ${response.status}: ${response.body.slice(0, 200)}`);
  return response;
}
