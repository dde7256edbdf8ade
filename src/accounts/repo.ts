/** SQL for people and their consents. Constraint violations become domain errors here. */
import { type Kysely, sql } from 'kysely';
import { type AuditEvent, appendAudit, createAuditLog, withAudit } from '../audit/repo.ts';
import { isUniqueViolation, violatedConstraint } from '../db/errors.ts';
import type { Schema } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { createDeletionQueries } from './deletion-repo.ts';
import { createGrantsQueries } from './grants-repo.ts';

export interface NewPerson {
  id: string;
  idNumberHmac: Buffer;
  idNumberEnc: Buffer;
  idNumberMasked: string;
  name: string;
  gender: 'male' | 'female';
  birthdate: string;
  phone: string | null;
  passwordHash: string | null;
}

export interface Person {
  id: string;
  name: string;
  gender: 'male' | 'female';
  birthdate: string;
  phone: string | null;
  idNumberMasked: string;
  idNumberEnc: Buffer;
  passwordHash: string | null;
  identityLevel: number;
  status: 'active' | 'locked' | 'deleted';
  /** Sign-ins before this moment no longer count (signed out everywhere, or locked). */
  signedOutAt: Date | null;
  /** When the person proved the phone number with a code sent to it. */
  phoneVerifiedAt: Date | null;
  /** Set while a deletion the person asked for waits; the account goes on this day. */
  deletionDueAt: Date | null;
  /** Sessions the person ended from their page in the last SESSION_HOURS: uid → when (epoch seconds). */
  endedSessions: Record<string, number>;
}

/** How long a sign-in session lives, counted from the sign-in (the provider's ttl.Session). */
export const SESSION_HOURS = 12;

/**
 * Whether a sign-in no longer counts: made (at `authTime`, whole seconds, as sessions and tokens
 * keep it) before the person ended its session from their page, or before they signed out
 * everywhere (or were locked or reset the password). A sign-in in the same second counts as
 * before: ending one too many is safe, keeping one is not. Signing in again on the same device
 * counts, though the provider keeps the session's uid.
 */
export function signInEnded(
  person: Pick<Person, 'signedOutAt' | 'endedSessions'>,
  signIn: { authTime: number | undefined; uid: string | undefined },
): boolean {
  const sessionEndedAt = signIn.uid === undefined ? undefined : person.endedSessions[signIn.uid];
  if (sessionEndedAt !== undefined && (signIn.authTime ?? 0) <= sessionEndedAt) return true;
  return Boolean(
    person.signedOutAt &&
      signIn.authTime !== undefined &&
      signIn.authTime <= Math.floor(person.signedOutAt.getTime() / 1000),
  );
}

const PERSON_COLUMNS = [
  'id',
  'name',
  'gender',
  sql<string>`birthdate::text`.as('birthdate'),
  'phone',
  'id_number_masked as idNumberMasked',
  'id_number_enc as idNumberEnc',
  'password_hash as passwordHash',
  'identity_level as identityLevel',
  'status',
  'signed_out_at as signedOutAt',
  'phone_verified_at as phoneVerifiedAt',
  'deletion_due_at as deletionDueAt',
  // Read with the person, so checking a session costs no query of its own on the sign-on hop.
  sql<Record<string, number>>`coalesce((
    SELECT json_object_agg(s.uid, floor(extract(epoch FROM s.revoked_at)))
    FROM sign_in_sessions s
    WHERE s.person_id = people.id AND s.revoked_at > now() - make_interval(hours => ${sql.lit(SESSION_HOURS)})
  ), '{}')`.as('endedSessions'),
] as const;

/** Names the class of advisory locks taken per mobile number (two-key locks apart from the audit chain's). */
const PHONE_LOCK = 7_243_002;

/**
 * `changed(personId)` after each change to a person, for this node's cache (person-cache.ts);
 * the other nodes hear it from the database.
 */
export function createAccountsRepo(db: Kysely<Schema>, changed: (personId: string) => void = () => {}) {
  const log = createAuditLog(db);
  return {
    async insertPerson(person: NewPerson, audit: AuditEvent): Promise<void> {
      try {
        await withAudit(db, audit, (trx) =>
          trx
            .insertInto('people')
            .values({
              id: person.id,
              id_number_hmac: person.idNumberHmac,
              id_number_enc: person.idNumberEnc,
              id_number_masked: person.idNumberMasked,
              name: person.name,
              gender: person.gender,
              birthdate: person.birthdate,
              phone: person.phone,
              password_hash: person.passwordHash,
            })
            .execute(),
        );
      } catch (error) {
        if (isUniqueViolation(error)) throw uniqueError(error);
        throw error;
      }
    },

    findPersonById(id: string): Promise<Person | undefined> {
      return db.selectFrom('people').select(PERSON_COLUMNS).where('id', '=', id).executeTakeFirst();
    },

    findPersonByIdHash(hmac: Buffer): Promise<Person | undefined> {
      return db
        .selectFrom('people')
        .select(PERSON_COLUMNS)
        .where('id_number_hmac', '=', hmac)
        .executeTakeFirst();
    },

    /**
     * The accounts among these identity-number HMACs (a source's bulk publication), in one query;
     * locked ones too, so that a source can still correct or withdraw what it said about them.
     */
    async idsByHash(hmacs: Buffer[]): Promise<Map<string, string>> {
      const ids = new Map<string, string>();
      // At most 65,535 parameters a statement: a 10,000-line bulk request is a few slices.
      for (let i = 0; i < hmacs.length; i += 10_000) {
        const rows = await db
          .selectFrom('people')
          .select(['id', 'id_number_hmac'])
          .where('id_number_hmac', 'in', hmacs.slice(i, i + 10_000))
          .execute();
        for (const row of rows) ids.set(Buffer.from(row.id_number_hmac).toString('base64url'), row.id);
      }
      return ids;
    },

    ...createGrantsQueries(db),
    ...createDeletionQueries(db, changed),

    /** Raises (never lowers) the identity level; the name is corrected when the authority's differs. */
    async raiseIdentityLevel(
      personId: string,
      level: 2 | 3,
      audit: AuditEvent,
      name?: string,
    ): Promise<void> {
      await withAudit(db, audit, (trx) =>
        trx
          .updateTable('people')
          .set({
            identity_level: sql<number>`greatest(identity_level, ${level})`,
            ...(name && { name }),
            updated_at: new Date(),
          })
          .where('id', '=', personId)
          .execute(),
      );
      changed(personId);
    },

    /** Whether the person holds an administrator's grant or serves at a counter. */
    async holdsDuties(personId: string): Promise<boolean> {
      const row = await db
        .selectFrom('admins')
        .select('person_id')
        .where('person_id', '=', personId)
        .unionAll(db.selectFrom('staff').select('person_id').where('person_id', '=', personId))
        .executeTakeFirst();
      return row !== undefined;
    },

    findStaff(personId: string): Promise<Staff | undefined> {
      return db
        .selectFrom('staff')
        .select(['person_id as personId', 'hall', 'region_code as regionCode'])
        .where('person_id', '=', personId)
        .executeTakeFirst();
    },

    /** Adds or moves a member of counter staff to a hall. */
    async saveStaff(staff: Staff, audit: AuditEvent): Promise<void> {
      await withAudit(db, audit, (trx) =>
        trx
          .insertInto('staff')
          .values({ person_id: staff.personId, hall: staff.hall, region_code: staff.regionCode })
          .onConflict((oc) =>
            oc.column('person_id').doUpdateSet({ hall: staff.hall, region_code: staff.regionCode }),
          )
          .execute(),
      );
    },

    /** Records an event that changes nothing else (a failed check, a look-up, a release of claims). */
    recordAudit: log.record,

    /** Locks or unlocks an account; locking also ends its sessions. */
    async setStatus(personId: string, status: 'active' | 'locked', audit: AuditEvent): Promise<void> {
      await withAudit(db, audit, (trx) =>
        trx
          .updateTable('people')
          .set({ status, updated_at: new Date(), ...(status === 'locked' && { signed_out_at: new Date() }) })
          .where('id', '=', personId)
          .execute(),
      );
      changed(personId);
    },

    /** A new password; every earlier sign-in stops counting. */
    async setPassword(personId: string, passwordHash: string, audit: AuditEvent): Promise<void> {
      await withAudit(db, audit, (trx) =>
        trx
          .updateTable('people')
          .set({ password_hash: passwordHash, signed_out_at: new Date(), updated_at: new Date() })
          .where('id', '=', personId)
          .execute(),
      );
      changed(personId);
    },

    /**
     * A mobile number the person proved with a code sent to it. Refused (`phone.taken`) when
     * another account proved it first; accounts that only typed it lose it, each with its row.
     */
    async setPhone(personId: string, phone: string, audit: AuditEvent): Promise<void> {
      try {
        const released = await db.transaction().execute(async (trx) => {
          // Proofs of one number take turns: two at once would each lock the other's row first.
          await sql`SELECT pg_advisory_xact_lock(${PHONE_LOCK}, hashtext(${phone}))`.execute(trx);
          const holders = await trx
            .selectFrom('people')
            .select(['id', 'phone_verified_at'])
            .where('phone', '=', phone)
            .where('id', '<>', personId)
            .forUpdate()
            .execute();
          if (holders.some((holder) => holder.phone_verified_at))
            throw new AppError('phone.taken', 409, { field: 'phone' });
          const released = holders.map((holder) => holder.id);
          if (released.length > 0)
            await trx
              .updateTable('people')
              .set({ phone: null, updated_at: new Date() })
              .where('id', 'in', released)
              .execute();
          await trx
            .updateTable('people')
            .set({ phone, phone_verified_at: new Date(), updated_at: new Date() })
            .where('id', '=', personId)
            .execute();
          await appendAudit(
            trx,
            audit,
            ...released.map((id) => ({
              actor: 'system',
              action: 'phone.released',
              subject: id,
              details: { reason: 'proved_by_another_account' },
            })),
          );
          return released;
        });
        for (const id of [personId, ...released]) changed(id);
      } catch (error) {
        if (isUniqueViolation(error)) throw uniqueError(error);
        throw error;
      }
    },

    /** Ends every session and refresh token from sign-ins before now. */
    async signOutEverywhere(personId: string, audit: AuditEvent): Promise<void> {
      await withAudit(db, audit, (trx) =>
        trx.updateTable('people').set({ signed_out_at: new Date() }).where('id', '=', personId).execute(),
      );
      changed(personId);
    },
  };
}

/** The number or the phone already belongs to an account: said of the field that collided. */
function uniqueError(error: unknown): AppError {
  return violatedConstraint(error) === 'people_proved_phone_unique'
    ? new AppError('phone.taken', 409, { field: 'phone' })
    : new AppError('account.exists', 409, { field: 'id_number' });
}

export interface Staff {
  personId: string;
  hall: string;
  regionCode: string;
}

export type AccountsRepo = ReturnType<typeof createAccountsRepo>;
