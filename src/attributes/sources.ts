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
 *   await sources.publish({ clientId: 'gd-edu', publishes: new Set(['education']) }, {
 *     holder: { id_number: '…' }, type: 'education', value: { … },
 *     verified_at: '2026-11-30T10:00:00+08:00', evidence: { type: 'electronic_record' },
 *   }, ip);
 */
import { z } from 'zod';
import { parseIdNumberOrThrow } from '../accounts/service.ts';
import { AppError, isAppError } from '../errors.ts';
import { parseCreditCode } from '../identity/credit-code.ts';
import { type IdNumber, parseIdNumber } from '../identity/id-number.ts';
import { findTextProblem } from '../text.ts';
import type { AttributeType } from './catalogue.ts';
import type { AttributesRepo, Published } from './repo.ts';

/** A source as its token shows it: the client and the types its manifest lets it publish. */
export interface Source {
  clientId: string;
  /** Its manifest's department: it must be one of the type's sources in the catalogue. */
  department: string;
  publishes: ReadonlySet<string>;
}

/** A bulk request's lines at most. */
export const BULK_LINES = 10_000;
/** How far in the future a verification time may be (clocks differ). */
const SKEW_MS = 5 * 60_000;

const record = z.strictObject({
  holder: z.union([z.strictObject({ id_number: z.string() }), z.strictObject({ credit_code: z.string() })]),
  type: z.string().max(48),
  withdraw: z.literal(true).optional(),
  value: z.unknown().optional(),
  verified_at: z.iso.datetime({ offset: true }).optional(),
  valid_until: z.union([z.iso.date(), z.iso.datetime({ offset: true })]).optional(),
  evidence: z.looseObject({ type: z.enum(['electronic_record', 'document']) }).optional(),
});

/** A line of a bulk request that did not parse, was too long, or was empty (no result). */
const NOT_JSON = Symbol('not JSON');
const TOO_LONG = Symbol('too long');
const BLANK = Symbol('blank');
/** A record's length at most: what validation costs stays bounded (the single API allows 16 KiB). */
const MAX_LINE = 64 * 1024;

interface Holders {
  people: ReadonlyMap<string, string>;
  entities: ReadonlyMap<string, string>;
}

type Change =
  | { kind: 'publish'; published: Published }
  | { kind: 'withdraw'; holderId: string; typeCode: string };

export function createSources(deps: {
  repo: AttributesRepo;
  catalogue: ReadonlyMap<string, AttributeType>;
  /** The active people with these identity numbers, in one look-up: number → id. */
  personIds(idNumbers: IdNumber[]): Promise<Map<string, string>>;
  /** The current entities with these credit codes, in one look-up: code → id. */
  entityIds(creditCodes: string[]): Promise<Map<string, string>>;
  /** A person's identity number, for the department asked to correct what it published about them. */
  idNumberOf(personId: string): Promise<string | undefined>;
}) {
  const refuse = (code: ConstructorParameters<typeof AppError>[0], status: number, detail?: string) =>
    new AppError(code, status, detail === undefined ? {} : { params: { detail } });

  /**
   * Every holder the records name, looked up at once (a bulk request is one query for people
   * and one for entities, not one per line); a malformed holder is left to `check` to refuse.
   */
  async function holdersOf(records: unknown[]): Promise<Holders> {
    const numbers = new Set<IdNumber>();
    const codes = new Set<string>();
    for (const raw of records) {
      const holder = (raw as { holder?: { id_number?: unknown; credit_code?: unknown } } | null)?.holder;
      if (typeof holder?.id_number === 'string') {
        const parsed = parseIdNumber(holder.id_number);
        if (parsed.ok) numbers.add(parsed.value);
      } else if (typeof holder?.credit_code === 'string') {
        const parsed = parseCreditCode(holder.credit_code);
        if (parsed.ok) codes.add(parsed.value);
      }
    }
    const [people, entities] = await Promise.all([deps.personIds([...numbers]), deps.entityIds([...codes])]);
    return { people, entities };
  }

  /** One record checked into a change; an AppError saying why not. */
  function check(source: Source, raw: unknown, holders: Holders): Change {
    const parsed = record.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw refuse('attribute.invalid', 400, `${issue?.path.join('.') || '(record)'}: ${issue?.message}`);
    }
    const input = parsed.data;
    const type = deps.catalogue.get(input.type);
    if (!type) throw refuse('attribute.type_unknown', 400, input.type);
    const listed = type.sources.some((s) => s.department === source.department);
    if (!source.publishes.has(type.code) || !listed) throw refuse('attribute.not_yours', 403, type.code);
    const holderId = holderOf(type, input.holder, holders);
    if (input.withdraw) return { kind: 'withdraw', holderId, typeCode: type.code };

    const problems = type.check(input.value);
    if (problems.length) throw refuse('attribute.value', 400, problems.join('; '));
    if (!input.verified_at) throw refuse('attribute.invalid', 400, 'verified_at: required');
    if (!input.evidence) throw refuse('attribute.invalid', 400, 'evidence: required');
    const verifiedAt = new Date(input.verified_at);
    if (verifiedAt.getTime() > Date.now() + SKEW_MS)
      throw refuse('attribute.invalid', 400, 'verified_at: in the future');
    // A date is the last day it holds, in China time.
    const validUntil = input.valid_until
      ? new Date(
          input.valid_until.length === 10 ? `${input.valid_until}T23:59:59.999+08:00` : input.valid_until,
        )
      : null;
    if (validUntil && validUntil.getTime() < Date.now())
      throw refuse('attribute.invalid', 400, 'valid_until: already past');
    return {
      kind: 'publish',
      published: {
        holderId,
        typeCode: type.code,
        value: input.value,
        verifiedAt,
        validUntil,
        evidence: input.evidence,
        sourceClientId: source.clientId,
      },
    };
  }

  function holderOf(
    type: AttributeType,
    holder: { id_number: string } | { credit_code: string },
    holders: Holders,
  ): string {
    if ('id_number' in holder) {
      if (type.holder !== 'person') throw refuse('attribute.holder_kind', 400, type.code);
      const id = holders.people.get(parseIdNumberOrThrow(holder.id_number));
      if (!id) throw refuse('attribute.holder_unknown', 422);
      return id;
    }
    if (type.holder !== 'entity') throw refuse('attribute.holder_kind', 400, type.code);
    const code = parseCreditCode(holder.credit_code);
    if (!code.ok) throw refuse(code.error, 400);
    const id = holders.entities.get(code.value);
    if (!id) throw refuse('attribute.holder_unknown', 422);
    return id;
  }

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
