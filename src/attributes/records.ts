/**
 * A source department's record checked into a change before anything is stored: its shape, a
 * type of the catalogue that this source may publish, a holder with a Yitong account, a value the
 * type's schema accepts, and believable times. Every holder of a batch is looked up at once.
 */
import { z } from 'zod';
import { parseIdNumberOrThrow } from '../accounts/service.ts';
import { AppError } from '../errors.ts';
import { parseCreditCode } from '../identity/credit-code.ts';
import { type IdNumber, parseIdNumber } from '../identity/id-number.ts';
import type { AttributeType } from './catalogue.ts';
import type { Published } from './repo.ts';

/** A source as its token shows it: the client and the types its manifest lets it publish. */
export interface Source {
  clientId: string;
  /** Its manifest's department and region: together one of the type's sources in the catalogue. */
  department: string;
  regionCode: string;
  publishes: ReadonlySet<string>;
}

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

interface Holders {
  people: ReadonlyMap<string, string>;
  entities: ReadonlyMap<string, string>;
}

export type Change =
  | { kind: 'publish'; published: Published }
  | { kind: 'withdraw'; holderId: string; typeCode: string };

/** An AppError with the record's problem as its detail. */
export const refuse = (code: ConstructorParameters<typeof AppError>[0], status: number, detail?: string) =>
  new AppError(code, status, detail === undefined ? {} : { params: { detail } });

export function createRecordCheck(deps: {
  catalogue: ReadonlyMap<string, AttributeType>;
  /** The active people with these identity numbers, in one look-up: number → id. */
  personIds(idNumbers: IdNumber[]): Promise<Map<string, string>>;
  /** The current entities with these credit codes, in one look-up: code → id. */
  entityIds(creditCodes: string[]): Promise<Map<string, string>>;
}) {
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
    const listed = type.sources.some(
      (s) => s.department === source.department && s.region_code === source.regionCode,
    );
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

  return { holdersOf, check };
}
