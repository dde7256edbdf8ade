/**
 * Identity level 2: a name and resident identity number confirmed by an authoritative source.
 * The source is pluggable: an HTTP service of the province's (configured by URL), or a JSON
 * file standing in for it in development and tests. A verifier never throws: a source that
 * cannot answer is `unavailable`, and nothing is raised.
 *
 * @example
 *   const verifier = createHttpVerifier({ url: 'https://authority.example/verify', token });
 *   await verifier.verify({ idNumber, name: '张三' }); // 'match' | 'mismatch' | 'unavailable'
 */
import { readFile } from 'node:fs/promises';
import { type IdNumber, parseIdNumber } from './id-number.ts';

export type VerifyOutcome = 'match' | 'mismatch' | 'unavailable';

export interface IdentityVerifier {
  /** Recorded in the audit trail: which kind of source answered. */
  readonly kind: string;
  verify(person: { idNumber: IdNumber; name: string }): Promise<VerifyOutcome>;
}

const sameName = (name: string) => name.trim().replace(/\s+/g, ' ');

/**
 * POSTs `{"id_number", "name"}` as JSON (with `authorization: Bearer <token>` when configured) and
 * expects 200 `{"match": true|false}`; anything else is `unavailable`.
 */
export function createHttpVerifier(options: {
  url: string;
  token?: string | undefined;
  timeoutMs?: number;
  fetch?: typeof fetch;
}): IdentityVerifier {
  const send = options.fetch ?? fetch;
  return {
    kind: 'http',
    async verify({ idNumber, name }) {
      try {
        const response = await send(options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            ...(options.token && { authorization: `Bearer ${options.token}` }),
          },
          body: JSON.stringify({ id_number: idNumber, name: sameName(name) }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
        });
        if (response.status !== 200) {
          await response.body?.cancel(); // free the connection rather than wait for garbage collection
          return 'unavailable';
        }
        const body = (await response.json()) as { match?: unknown };
        if (typeof body?.match !== 'boolean') return 'unavailable';
        return body.match ? 'match' : 'mismatch';
      } catch {
        return 'unavailable';
      }
    },
  };
}

/**
 * The records of a JSON file, `[{"id_number": "…", "name": "…"}, …]`, read and checked once.
 * A bad file fails at start with the record and the rule, never echoing a number.
 */
export async function loadFileVerifier(path: string): Promise<IdentityVerifier> {
  const fail = (problem: string) => new Error(`identity verifier file ${path}: ${problem}`);
  let records: unknown;
  try {
    records = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw fail((error as NodeJS.ErrnoException).code ?? 'not valid JSON');
  }
  if (!Array.isArray(records)) throw fail('must hold a JSON array of {"id_number", "name"} records');
  const names = new Map<string, string>();
  records.forEach((record: { id_number?: unknown; name?: unknown } | null, index) => {
    if (typeof record?.name !== 'string' || !record.name.trim()) throw fail(`record ${index} has no name`);
    const parsed = parseIdNumber(typeof record.id_number === 'string' ? record.id_number : '');
    if (!parsed.ok) throw fail(`record ${index}: id_number fails the rule ${parsed.error}`);
    names.set(parsed.value, sameName(record.name));
  });
  return {
    kind: 'file',
    verify: async ({ idNumber, name }) => (names.get(idNumber) === sameName(name) ? 'match' : 'mismatch'),
  };
}
