/**
 * The upstream identity providers, kept in PostgreSQL: `yitong upstreams sync <dir>` checks a
 * folder of manifests whole and stores it (all or nothing), one audit row per upstream added,
 * changed or removed (never a secret), the secrets sealed with the data key; every node reloads
 * the set when told (NOTIFY), so a change needs no restart.
 *
 * @example
 *   const upstreams = createUpstreams({ db, sealer, production: false, logger });
 *   await upstreams.reload();                  // upstreams.live: id → Upstream
 *   await upstreams.sync('upstreams/', 'cli'); // [{ id: 'national', status: 'added' }]
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { appendAudit } from '../audit/repo.ts';
import { notifyChange } from '../db/changes.ts';
import type { Schema } from '../db/schema.ts';
import type { Sealer } from '../identity/crypto.ts';
import {
  parseUpstream,
  readUpstreamsDir,
  type Upstream,
  type UpstreamManifest,
  upstreamOf,
} from './upstreams.ts';

export type SyncStatus = 'added' | 'changed' | 'unchanged' | 'removed';

/** JSON with every object's keys in order: PostgreSQL's jsonb keeps its own order. */
const canonical = (value: unknown) =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );

export function createUpstreams(deps: {
  db: Kysely<Schema>;
  sealer: Pick<Sealer, 'seal' | 'open'>;
  production: boolean;
  logger: Pick<Logger, 'error'>;
}) {
  const { db, sealer } = deps;
  /** The set every part of Yitong reads; replaced in place on reload. */
  const live = new Map<string, Upstream>();
  const split = ({ client_secret, private_key_jwk, ...manifest }: UpstreamManifest) => ({
    manifest,
    secret: JSON.stringify({ client_secret, private_key_jwk }),
  });

  async function reload() {
    const rows = await db.selectFrom('upstreams').select(['id', 'manifest', 'secret_enc']).execute();
    const fresh = new Map<string, Upstream>();
    for (const row of rows) {
      try {
        const secret = JSON.parse(sealer.open(row.secret_enc)) as Record<string, unknown>;
        const manifest = parseUpstream(`upstream ${row.id}`, { ...row.manifest, ...secret }, deps.production);
        const known = live.get(row.id);
        // An unchanged upstream keeps its discovery and keys.
        const same = known && canonical(split(known)) === canonical(split(manifest));
        fresh.set(row.id, same ? known : upstreamOf(manifest));
      } catch (error) {
        deps.logger.error({ err: error, upstream: row.id }, 'stored upstream not usable');
      }
    }
    live.clear();
    for (const [id, upstream] of fresh) live.set(id, upstream);
  }

  return {
    live: live as ReadonlyMap<string, Upstream>,
    reload,

    /** Stores the folder's manifests as the whole set; what each upstream's change was. */
    async sync(dir: string, actor: string): Promise<Array<{ id: string; status: SyncStatus }>> {
      const manifests = await readUpstreamsDir(dir, deps.production);
      const results = await db.transaction().execute(async (trx) => {
        const stored = await trx.selectFrom('upstreams').select(['id', 'manifest', 'secret_enc']).execute();
        const changes: Array<{ id: string; status: SyncStatus }> = [];
        for (const manifest of manifests) {
          const { manifest: shown, secret } = split(manifest);
          const before = stored.find((row) => row.id === manifest.id);
          const same =
            before &&
            canonical(before.manifest) === canonical(shown) &&
            sealer.open(before.secret_enc) === secret;
          const status: SyncStatus = !before ? 'added' : same ? 'unchanged' : 'changed';
          changes.push({ id: manifest.id, status });
          if (status === 'unchanged') continue;
          const values = {
            manifest: JSON.stringify(shown),
            secret_enc: sealer.seal(secret),
            updated_at: new Date(),
          };
          await trx
            .insertInto('upstreams')
            .values({ id: manifest.id, ...values })
            .onConflict((oc) => oc.column('id').doUpdateSet(values))
            .execute();
          await appendAudit(trx, {
            actor,
            action: `upstream.${status}`,
            details: { upstream: manifest.id, issuer: manifest.issuer, client_id: manifest.client_id },
          });
        }
        for (const row of stored.filter((row) => !manifests.some((m) => m.id === row.id))) {
          await trx.deleteFrom('upstreams').where('id', '=', row.id).execute();
          await appendAudit(trx, { actor, action: 'upstream.removed', details: { upstream: row.id } });
          changes.push({ id: row.id, status: 'removed' });
        }
        if (changes.some((change) => change.status !== 'unchanged'))
          await notifyChange(trx, { kind: 'upstreams' });
        return changes;
      });
      // This node at once; the others when they hear the NOTIFY.
      await reload();
      return results;
    },
  };
}

export type Upstreams = ReturnType<typeof createUpstreams>;
