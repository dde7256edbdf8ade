/**
 * The append-only audit trail. Each row carries the SHA-256 of the row before it, so altering or
 * deleting a row breaks the chain from there on. Rows are appended inside the transaction of the
 * change they record: no change without its row, no row without its change.
 *
 * @example
 *   await db.transaction().execute(async (trx) => {
 *     await raiseLevel(trx, personId, 3);
 *     await appendAudit(trx, { actor: staffId, action: 'identity.confirmed', subject: personId, details: { hall } });
 *   });
 */
import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Schema } from '../db/schema.ts';

export interface AuditEvent {
  /** Who did it: a person's id, `cli`, or `system`. */
  actor: string;
  /** What happened, `area.verb`: `passkey.added`, `identity.confirmed` … */
  action: string;
  /** Whom it concerns (a person's id), when anyone. */
  subject?: string | undefined;
  ip?: string | undefined;
  /** Never secrets, never a full identity number. */
  details?: Record<string, unknown>;
}

/** Any number; it names the lock that serialises appends so each row sees its predecessor. */
const CHAIN_LOCK = 7_243_001;

export function auditHash(
  prev: Buffer | null,
  row: Required<Omit<AuditEvent, 'subject' | 'ip'>> & {
    at: Date;
    subject: string | null;
    ip: string | null;
  },
): Buffer {
  const body = JSON.stringify([
    row.at.toISOString(),
    row.actor,
    row.action,
    row.subject,
    row.ip,
    row.details,
  ]);
  return createHash('sha256')
    .update(prev ?? Buffer.alloc(0))
    .update(body)
    .digest();
}

/** Appends one row; call it with the transaction that makes the change. */
export async function appendAudit(trx: Kysely<Schema>, event: AuditEvent): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${CHAIN_LOCK})`.execute(trx);
  const last = await trx
    .selectFrom('audit_events')
    .select('hash')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  const row = {
    at: new Date(),
    actor: event.actor,
    action: event.action,
    subject: event.subject ?? null,
    ip: event.ip ?? null,
    details: event.details ?? {},
  };
  const prev = last?.hash ?? null;
  await trx
    .insertInto('audit_events')
    .values({ ...row, details: JSON.stringify(row.details), prev_hash: prev, hash: auditHash(prev, row) })
    .execute();
}

export function listAuditFor(db: Kysely<Schema>, subject: string, limit = 50) {
  return db
    .selectFrom('audit_events')
    .select(['seq', 'at', 'actor', 'action', 'details'])
    .where('subject', '=', subject)
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
}

/** Runs `change` and appends its audit row in one transaction; returns what `change` returned. */
export function withAudit<T>(
  db: Kysely<Schema>,
  event: AuditEvent,
  change: (trx: Kysely<Schema>) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const result = await change(trx);
    await appendAudit(trx, event);
    return result;
  });
}
