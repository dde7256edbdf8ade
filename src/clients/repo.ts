/**
 * SQL for departmental clients. Every change to a row is told to every node when it commits, by a
 * trigger (migration 0022): each drops its cached copy of the site.
 */
import { type Kysely, sql } from 'kysely';
import { type AuditEvent, withAudit } from '../audit/repo.ts';
import { isUniqueViolation } from '../db/errors.ts';
import type { Schema } from '../db/schema.ts';
import { AppError } from '../errors.ts';

export interface ClientRecord {
  id: string;
  department: string;
  regionCode: string;
  metadata: Record<string, unknown>;
  secretHash: string | null;
  /** The secret it had before a rotation, still accepted until `until` (read only). */
  previousSecret?: { hash: string; until: Date } | undefined;
  /** Its admin scopes count: the province (an operator's manifest, a province administrator) listed them. */
  adminDesignated: boolean;
}

/** What one initial access token lets a department register. */
export interface RegistrationGrant {
  tokenId: string;
  department: string;
  regionCode: string;
  scopes: string[];
  createdBy: string;
}

const rowOf = (client: ClientRecord) => ({
  id: client.id,
  department: client.department,
  region_code: client.regionCode,
  metadata: JSON.stringify(client.metadata),
  secret_hash: client.secretHash,
  admin_designated: client.adminDesignated,
});

export function createClientsRepo(db: Kysely<Schema>) {
  return {
    /**
     * A manifest applied by the operator (`yitong clients sync`) or a site registered dynamically:
     * the row is created or replaced. Never for the console or the API, which create and edit apart.
     */
    async upsertClient(client: ClientRecord): Promise<void> {
      const metadata = JSON.stringify(client.metadata);
      await db
        .insertInto('clients')
        .values(rowOf(client))
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            department: client.department,
            region_code: client.regionCode,
            metadata,
            admin_designated: client.adminDesignated,
            // Keep the stored secret when a manifest does not carry one (it was generated and shown once);
            // a secret the manifest sets ends any rotation's grace at once.
            secret_hash: client.secretHash ?? eb.ref('clients.secret_hash'),
            ...(client.secretHash && { previous_secret_hash: null, previous_secret_expires_at: null }),
            updated_at: new Date(),
          })),
        )
        .execute();
    },

    /** A new site: an id taken by any site, of any region, is refused (409) and nothing changes. */
    async insertClient(client: ClientRecord, audit: AuditEvent): Promise<void> {
      try {
        await withAudit(db, audit, async (trx) => {
          await trx.insertInto('clients').values(rowOf(client)).execute();
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new AppError('admin.client.exists', 409, { field: 'client_id' });
        throw error;
      }
    },

    /** An existing site's registration changed; its secret stays. False when there is no such site. */
    async updateClient(client: Omit<ClientRecord, 'secretHash'>, audit: AuditEvent): Promise<boolean> {
      return withAudit(db, audit, async (trx) => {
        const result = await trx
          .updateTable('clients')
          .set({
            department: client.department,
            region_code: client.regionCode,
            metadata: JSON.stringify(client.metadata),
            admin_designated: client.adminDesignated,
            updated_at: new Date(),
          })
          .where('id', '=', client.id)
          .executeTakeFirst();
        return result.numUpdatedRows > 0n;
      });
    },

    /** Every client (enabled or not) whose region starts with `prefix`, by department. */
    listClients(prefix: string) {
      return db
        .selectFrom('clients')
        .select(['id', 'department', 'region_code as regionCode', 'metadata', 'enabled'])
        .where('region_code', 'like', `${prefix}%`)
        .orderBy('department')
        .orderBy('id')
        .limit(500)
        .execute();
    },

    /**
     * Enabled sites that ask whom a person acts for (`legal_person` among their scopes): where an
     * entity's authorisation means something, so where it may be limited to.
     */
    listLegalPersonSites() {
      return db
        .selectFrom('clients')
        .select(['id', 'department', sql<string>`metadata->>'client_name'`.as('name')])
        .where('enabled', '=', true)
        .where(sql<boolean>`' ' || (metadata->>'scope') || ' ' LIKE '% legal_person %'`)
        .orderBy('department')
        .orderBy('id')
        .execute();
    },

    /** Enabled sites with a public home page, for the services menu. */
    listPublicSites() {
      return db
        .selectFrom('clients')
        .select([
          'id',
          'department',
          'region_code as regionCode',
          sql<string>`metadata->>'client_name'`.as('name'),
          sql<string>`metadata->>'client_uri'`.as('uri'),
          sql<string | null>`metadata->>'logo_uri'`.as('logo'),
          sql<string | null>`metadata->>'category'`.as('category'),
        ])
        .where('enabled', '=', true)
        .where(sql<boolean>`metadata ? 'client_uri'`)
        .orderBy('department')
        .orderBy('id')
        .execute();
    },

    findClient(id: string) {
      return db
        .selectFrom('clients')
        .select([
          'id',
          'department',
          'region_code as regionCode',
          'metadata',
          'enabled',
          'admin_designated as adminDesignated',
        ])
        .where('id', '=', id)
        .executeTakeFirst();
    },

    async findEnabledClient(id: string): Promise<ClientRecord | undefined> {
      const row = await db
        .selectFrom('clients')
        .select([
          'id',
          'department',
          'region_code',
          'metadata',
          'secret_hash',
          'previous_secret_hash',
          'previous_secret_expires_at',
          'admin_designated',
        ])
        .where('id', '=', id)
        .where('enabled', '=', true)
        .executeTakeFirst();
      const { previous_secret_hash: hash, previous_secret_expires_at: until } = row ?? {};
      return (
        row && {
          id: row.id,
          department: row.department,
          regionCode: row.region_code,
          metadata: row.metadata,
          secretHash: row.secret_hash,
          previousSecret: hash && until && until > new Date() ? { hash, until } : undefined,
          adminDesignated: row.admin_designated,
        }
      );
    },

    /**
     * A new secret; the one it replaces still works for `graceSeconds` (0: not at all). False
     * when there is no such client.
     */
    async setSecretHash(
      id: string,
      secretHash: string,
      graceSeconds: number,
      audit?: AuditEvent,
    ): Promise<boolean> {
      const write = async (trx: Kysely<Schema>) => {
        const result = await trx
          .updateTable('clients')
          .set((eb) => ({
            secret_hash: secretHash,
            previous_secret_hash: eb.ref('secret_hash'),
            previous_secret_expires_at: new Date(Date.now() + graceSeconds * 1000),
            updated_at: new Date(),
          }))
          .where('id', '=', id)
          .executeTakeFirst();
        return result.numUpdatedRows > 0n;
      };
      return audit ? withAudit(db, audit, write) : write(db);
    },

    /** RFC 7592 delete: the site stops working at once; its row stays for the record. */
    async disable(id: string, audit?: AuditEvent): Promise<void> {
      const write = async (trx: Kysely<Schema>) => {
        await trx
          .updateTable('clients')
          .set({
            enabled: false,
            previous_secret_hash: null,
            previous_secret_expires_at: null,
            updated_at: new Date(),
          })
          .where('id', '=', id)
          .execute();
      };
      await (audit ? withAudit(db, audit, write) : write(db));
    },

    async saveRegistrationGrant(grant: RegistrationGrant, audit: AuditEvent): Promise<void> {
      await withAudit(db, audit, (trx) =>
        trx
          .insertInto('registration_grants')
          .values({
            token_id: grant.tokenId,
            department: grant.department,
            region_code: grant.regionCode,
            scopes: grant.scopes.join(' '),
            created_by: grant.createdBy,
          })
          .execute(),
      );
    },

    async findRegistrationGrant(tokenId: string): Promise<RegistrationGrant | undefined> {
      const row = await db
        .selectFrom('registration_grants')
        .selectAll()
        .where('token_id', '=', tokenId)
        .executeTakeFirst();
      return (
        row && {
          tokenId: row.token_id,
          department: row.department,
          regionCode: row.region_code,
          scopes: row.scopes.split(' '),
          createdBy: row.created_by,
        }
      );
    },

    /** The stored secret's hash, if the site has one. */
    async secretHashOf(id: string): Promise<string | undefined> {
      const row = await db
        .selectFrom('clients')
        .select('secret_hash')
        .where('id', '=', id)
        .executeTakeFirst();
      return row?.secret_hash ?? undefined;
    },
  };
}

export type ClientsRepo = ReturnType<typeof createClientsRepo>;
