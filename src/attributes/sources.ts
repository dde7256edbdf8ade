/**
 * Source departments publish verified attributes: a department's backend (a client of its own,
 * allowed by its manifest's `publishes` to write only those types) puts, replaces and withdraws
 * the value of a type for a person (by identity number) or an entity (by credit code), with when
 * and how it was verified, and until when it holds. One record at a time, or many as JSON Lines
 * with one result per line: a bad record is refused with its reason and changes nothing, the
 * good ones of the batch are stored together, each with its audit row.
 *
 * A person or entity without a Yitong account is refused (`attribute.holder_unknown`): Yitong
 * keeps data only of the people and entities it serves, and the source still holds the record;
 * it publishes again once they register.
 *
 * @example
 *   await sources.publish({ clientId: 'gd-edu', department: '省教育厅', regionCode: '440000', publishes: new Set(['education']) }, {
 *     holder: { id_number: '…' }, type: 'education', value: { … },
 *     verified_at: '2026-11-30T10:00:00+08:00', evidence: { type: 'electronic_record' },
 *   }, ip);
 */
import { AppError, isAppError } from '../errors.ts';
import { findTextProblem } from '../text.ts';
import { type Change, createRecordCheck, refuse, type Source } from './records.ts';
import type { AttributesRepo } from './repo.ts';

/** A bulk request's lines at most. */
export const BULK_LINES = 10_000;
/** A line of a bulk request that did not parse, was too long, or was empty (no result). */
const NOT_JSON = Symbol('not JSON');
const TOO_LONG = Symbol('too long');
const BLANK = Symbol('blank');
/** A record's length at most: what validation costs stays bounded (the single API allows 16 KiB). */
const MAX_LINE = 64 * 1024;

export function createSources(
  deps: Parameters<typeof createRecordCheck>[0] & {
    repo: AttributesRepo;
    /** A person's identity number, for the department asked to correct what it published about them. */
    idNumberOf(personId: string): Promise<string | undefined>;
  },
) {
  const { holdersOf, check } = createRecordCheck(deps);

  /** Applies the changes with one audit row each (who published what about whom; never the value). */
  function apply(source: Source, changes: Change[], ip: string) {
    const audit = changes.map((change) => {
      const holderId = change.kind === 'publish' ? change.published.holderId : change.holderId;
      const typeCode = change.kind === 'publish' ? change.published.typeCode : change.typeCode;
      return {
        actor: `client:${source.clientId}`,
        action: change.kind === 'publish' ? 'attribute.published' : 'attribute.withdrawn',
        subject: holderId,
        ip,
        details: { type: typeCode, client_id: source.clientId },
      };
    });
    return deps.repo.apply(
      {
        publish: changes.flatMap((c) => (c.kind === 'publish' ? [c.published] : [])),
        withdraw: changes.flatMap((c) => (c.kind === 'withdraw' ? [c] : [])),
      },
      audit,
    );
  }

  return {
    /** One record: stored (or withdrawn), or an AppError saying why not. */
    async publish(source: Source, raw: unknown, ip: string): Promise<'stored' | 'withdrawn'> {
      const change = check(source, raw, await holdersOf([raw]));
      await apply(source, [change], ip);
      return change.kind === 'publish' ? 'stored' : 'withdrawn';
    },

    /**
     * JSON Lines, one record a line: a result for each (`stored`, `withdrawn` or `refused` with
     * the reason); the good ones are stored together. A line that is not JSON is refused alone.
     */
    async bulk(source: Source, lines: string[], ip: string) {
      const results: Array<{ line: number; status: string; error?: string; reason?: string }> = [];
      const changes: Change[] = [];
      // The last record for a holder and type wins, as if they had been sent one by one.
      const latest = new Map<string, number>();
      const records = lines.map((text) => {
        if (!text.trim()) return BLANK;
        if (text.length > MAX_LINE) return TOO_LONG;
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return NOT_JSON;
        }
      });
      const holders = await holdersOf(records);
      for (const [index, value] of records.entries()) {
        const line = index + 1;
        if (value === BLANK) continue;
        try {
          if (value === NOT_JSON) throw refuse('attribute.invalid', 400, 'not JSON');
          if (value === TOO_LONG)
            throw refuse('attribute.invalid', 400, `longer than ${MAX_LINE} characters`);
          // What JSON escapes could hide (a NUL, a lone surrogate, deep nesting) is refused here too.
          const problem = findTextProblem(value);
          if (problem) throw refuse('attribute.invalid', 400, problem);
          const change = check(source, value, holders);
          const key = `${change.kind === 'publish' ? change.published.holderId : change.holderId}/${change.kind === 'publish' ? change.published.typeCode : change.typeCode}`;
          const earlier = latest.get(key);
          if (earlier !== undefined) changes[earlier] = change;
          else latest.set(key, changes.push(change) - 1);
          results.push({ line, status: change.kind === 'publish' ? 'stored' : 'withdrawn' });
        } catch (error) {
          if (isAppError(error))
            results.push({
              line,
              status: 'refused',
              error: error.code,
              reason: String(error.params.detail ?? error.code),
            });
          else throw error;
        }
      }
      await apply(source, changes, ip);
      return results;
    },

    /** The people's open correction requests about what this source published, oldest first. */
    async corrections(source: Source) {
      const rows = await deps.repo.openCorrections(source.clientId);
      return Promise.all(
        rows.map(async (row) => ({
          id: row.id,
          type: row.type_code,
          holder: { id_number: await deps.idNumberOf(row.holder_id) },
          message: row.message,
          requested_at: row.created_at.toISOString(),
        })),
      );
    },

    /** The source's answer to a correction request (2–500 characters), shown on the person's page. */
    async answer(source: Source, id: string, raw: unknown, ip: string) {
      const answer = (raw as { answer?: unknown } | null)?.answer;
      if (
        typeof answer !== 'string' ||
        answer.trim().length < 2 ||
        answer.length > 500 ||
        findTextProblem(answer)
      )
        throw refuse('attribute.invalid', 400, 'answer: 2–500 characters of text');
      if (!/^[1-9][0-9]{0,17}$/.test(id)) throw new AppError('attribute.correction.none', 404);
      await deps.repo.answerCorrection(id, source.clientId, answer.trim(), {
        actor: source.clientId,
        action: 'attribute.correction.answered',
        ip,
        details: { correction: id },
      });
      return 'answered' as const;
    },
  };
}

export type Sources = ReturnType<typeof createSources>;
