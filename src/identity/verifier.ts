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
import { ConfigError } from '../config-error.ts';
import { limitedFetch } from '../limited-body.ts';
import { type IdNumber, parseIdNumber } from './id-number.ts';

export type VerifyOutcome = 'match' | 'mismatch' | 'unavailable';

export interface IdentityVerifier {
  /** Recorded in the audit trail: which kind of source answered. */
  readonly kind: string;
  verify(person: { idNumber: IdNumber; name: string }): Promise<VerifyOutcome>;
}

export const sameName = (name: string) => name.trim().replace(/\s+/g, ' ');

/** How Yitong reaches an authoritative source over HTTP. */
export interface SourceOptions {
  url: string;
  token?: string | undefined;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** A source's answer is a few fields: more than this is no answer. */
const SOURCE_ANSWER_LIMIT = 64 * 1024;

/**
 * POSTs `body` as JSON (with `authorization: Bearer <token>` when configured) and returns the JSON
 * object of a 200 answer; undefined when the source cannot answer, or answers more than 64 KiB
 * (never throws).
 */
export async function askSource(
  options: SourceOptions,
  body: Record<string, unknown>,
): Promise<Record<string, unknown> | undefined> {
  try {
    const response = await limitedFetch(SOURCE_ANSWER_LIMIT, options.fetch)(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(options.token && { authorization: `Bearer ${options.token}` }),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
    if (response.status !== 200) {
      await response.body?.cancel(); // free the connection rather than wait for garbage collection
      return undefined;
    }
    const answer: unknown = await response.json();
    return answer !== null && typeof answer === 'object' ? (answer as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** POSTs `{"id_number", "name"}` and expects 200 `{"match": true|false}`; anything else is `unavailable`. */
export function createHttpVerifier(options: SourceOptions): IdentityVerifier {
  return {
    kind: 'http',
    async verify({ idNumber, name }) {
      const answer = await askSource(options, { id_number: idNumber, name: sameName(name) });
      if (typeof answer?.match !== 'boolean') return 'unavailable';
      return answer.match ? 'match' : 'mismatch';
    },
  };
}

/**
 * A development file standing in for a source: a JSON array of `shape` records, and how to fail
 * at start naming the variable and the file (never echoing a record's number).
 */
export async function readSourceFile(path: string, variable: string, shape: string) {
  const fail = (problem: string) => new ConfigError(variable, `(${path}): ${problem}`);
  let records: unknown;
  try {
    records = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw fail(code ? `must name a readable file (${code})` : 'is not valid JSON');
  }
  if (!Array.isArray(records)) throw fail(`must hold a JSON array of ${shape} records`);
  return { records: records as unknown[], fail };
}

/**
 * The records of a JSON file, `[{"id_number": "…", "name": "…"}, …]`, read and checked once.
 * A bad file fails at start with the record and the rule, never echoing a number.
 */
export async function loadFileVerifier(path: string): Promise<IdentityVerifier> {
  const { records, fail } = await readSourceFile(path, 'IDENTITY_VERIFIER_FILE', '{"id_number", "name"}');
  const names = new Map<string, string>();
  (records as Array<{ id_number?: unknown; name?: unknown } | null>).forEach((record, index) => {
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
