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

/** JSON with object keys sorted at every level: jsonb gives keys back in its own order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

type StoredEvent = Required<Omit<AuditEvent, 'subject' | 'ip'>> & {
  at: Date;
  subject: string | null;
  ip: string | null;
};

/** What a row's hash covers, besides the hash before it: its contents, in canonical JSON. */
const auditBody = (row: StoredEvent) =>
  canonicalJson([row.at.toISOString(), row.actor, row.action, row.subject, row.ip, row.details]);

export function auditHash(prev: Buffer | null, row: StoredEvent): Buffer {
  return createHash('sha256')
    .update(prev ?? Buffer.alloc(0))
    .update(auditBody(row))
    .digest();
}

/**
 * Appends rows in order, chained; call it with the transaction that makes the change, or alone.
 * One round trip: the database function `audit_append` (migration 0019) takes the chain's lock,
 * reads its head and hashes each row's body made here, as `auditHash` makes it again to verify.
 */
export async function appendAudit(db: Kysely<Schema>, ...events: AuditEvent[]): Promise<void> {
  const rows = events.map((event) => {
    const row: StoredEvent = {
      // When it happened, before any wait for the chain's lock: the trail's order is `seq`.
      at: new Date(),
      actor: event.actor,
      action: event.action,
      subject: event.subject ?? null,
      // IPv4 clients of a dual-stack socket arrive as ::ffff:a.b.c.d.
      ip: event.ip?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '') ?? null,
      // As the row will be stored and read back (undefined keys dropped, dates as strings).
      details: JSON.parse(JSON.stringify(event.details ?? {})) as Record<string, unknown>,
    };
    return { ...row, at: row.at.toISOString(), body: auditBody(row) };
  });
  // A bulk change's rows in slices, each statement short (the statement timeout); in the
  // change's transaction the lock holds from the first slice to the commit.
  for (let i = 0; i < rows.length; i += 1000)
    await sql`SELECT audit_append(${JSON.stringify(rows.slice(i, i + 1000))}::jsonb)`.execute(db);
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

export type ChainCheck = { rows: number; broken?: { seq: string; reason: 'hash' | 'link' } };

/**
 * Walks the chain from the first row: each row's `prev_hash` must be the hash of the row before
 * it, and its `hash` must match its own contents. Reports the first row where either fails.
 */
export async function verifyAuditChain(
  db: Kysely<Schema>,
  onProgress?: (rows: number) => void,
  batch = 2000,
): Promise<ChainCheck> {
  let previous: Buffer | null = null;
  let after = '0';
  let rows = 0;
  for (;;) {
    const page = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(batch)
      .execute();
    for (const row of page) {
      // PGlite gives bytea back as Uint8Array, pg as Buffer.
      const prevHash = row.prev_hash && Buffer.from(row.prev_hash);
      const hash = Buffer.from(row.hash);
      const linked = previous === null ? prevHash === null : prevHash?.equals(previous) === true;
      if (!linked) return { rows, broken: { seq: row.seq, reason: 'link' } };
      if (!auditHash(prevHash, row).equals(hash)) return { rows, broken: { seq: row.seq, reason: 'hash' } };
      previous = hash;
      rows++;
    }
    if (page.length < batch) return { rows };
    after = page.at(-1)?.seq ?? after;
    onProgress?.(rows);
  }
}

export interface AuditFilter {
  subject?: string | undefined;
  clientId?: string | undefined;
  action?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/**
 * For events that change nothing else (a failed sign-in, a release of claims). Rows arriving
 * together are written together: one transaction, one turn of the chain's lock, for every event
 * queued while the previous batch was being written (group commit). Each caller still waits
 * until its row is committed: nothing is released before it is recorded.
 */
export function createAuditLog(db: Kysely<Schema>) {
  const queue: Array<{ event: AuditEvent; done: (error?: unknown) => void }> = [];
  let draining = false;

  async function drain() {
    while (queue.length > 0) {
      // Bounded, so that one statement's rows stay a few hundred kilobytes.
      const batch = queue.splice(0, 1000);
      try {
        await appendAudit(db, ...batch.map((item) => item.event));
        for (const item of batch) item.done();
      } catch (error) {
        for (const item of batch) item.done(error);
      }
    }
    draining = false;
  }

  return {
    record(event: AuditEvent): Promise<void> {
      return new Promise((resolve, reject) => {
        queue.push({ event, done: (error) => (error ? reject(error) : resolve()) });
        if (!draining) {
          draining = true;
          void drain();
        }
      });
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
