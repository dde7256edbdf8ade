/**
 * Registering departmental sites from manifests. A bad file is reported with its name and field
 * and nothing of it is applied; secrets are generated when absent, shown once, stored as SHA-256.
 *
 * @example
 *   const results = await clients.sync('clients/'); // [{ file, clientId, secret? }]
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { AuditEvent } from '../audit/repo.ts';
import { listsAdminScope } from '../auth/strength.ts';
import {
  describeIssues,
  FAPI2_FLAGS,
  isServiceAccount,
  type Manifest,
  manifestSchema,
  RESERVED_CLIENT_ID,
  RESERVED_CLIENT_IDS,
} from './manifest.ts';
import type { ClientRecord, ClientsRepo } from './repo.ts';

export class ManifestError extends Error {
  readonly file: string;
  readonly problems: string[];
  /** The manifest's top-level fields the problems are about (a form shows each next to its field). */
  readonly fields: string[];
  constructor(file: string, problems: string[], fields: string[] = []) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'ManifestError';
    this.file = file;
    this.problems = problems;
    this.fields = fields;
  }
}

export interface RegisteredClient {
  file: string;
  clientId: string;
  /** A generated secret, present only the first time: it is not stored in clear anywhere. */
  generatedSecret?: string;
  /** The site had another secret, which the given one replaced: the old one works no more. */
  replacedSecret?: true;
}

function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashClientSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex')}`;
}

/**
 * What the provider holds as a site's `client_secret`: the hash, then during a rotation's grace
 * period the previous hash and when it ends (`sha256:… sha256:…@1767225600`).
 */
export function providerSecretOf(
  client: Pick<ClientRecord, 'secretHash' | 'previousSecret'>,
): string | undefined {
  if (!client.secretHash) return undefined;
  const previous = client.previousSecret;
  return previous
    ? `${client.secretHash} ${previous.hash}@${Math.floor(previous.until.getTime() / 1000)}`
    : client.secretHash;
}

/** The presented secret against `providerSecretOf`'s string. */
export function clientSecretMatches(stored: string, presented: string): boolean {
  const given = Buffer.from(hashClientSecret(presented));
  return stored.split(' ').some((candidate) => {
    const [hash = '', until] = candidate.split('@');
    const expected = Buffer.from(hash);
    const current = until === undefined || Number(until) * 1000 > Date.now();
    return current && expected.length === given.length && timingSafeEqual(expected, given);
  });
}

export function createClientsService(
  repo: ClientsRepo,
  options: {
    production: boolean;
    validateMetadata: (metadata: Record<string, unknown>) => Promise<void>;
    /** How long a rotated secret keeps working beside the new one. */
    secretGraceSeconds: number;
  },
) {
  const schema = manifestSchema(options);

  /** A manifest checked by our rules and by the provider's; ManifestError naming `source` otherwise. */
  async function checkManifest(
    source: string,
    json: unknown,
    fallbackId: string,
  ): Promise<Manifest & { client_id: string }> {
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const fields = new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? '')).filter(Boolean));
      throw new ManifestError(source, describeIssues(parsed.error), [...fields]);
    }
    const manifest = { ...parsed.data, client_id: parsed.data.client_id ?? fallbackId };
    if (!manifest.client_id) throw new ManifestError(source, ['client_id: required']);
    // The schema checked a given id; one taken from the file's name is held to the same reservation.
    if (RESERVED_CLIENT_IDS.has(manifest.client_id))
      throw new ManifestError(source, [`client_id: ${RESERVED_CLIENT_ID}`], ['client_id']);
    try {
      // The provider checks the metadata as it will see it: with the (hashed) secret in place.
      await options.validateMetadata({
        ...toMetadata(manifest),
        ...(usesSharedSecret(manifest) && { client_secret: 'sha256:placeholder' }),
      });
    } catch (error) {
      throw new ManifestError(source, [
        (error as { error_description?: string }).error_description ?? (error as Error).message,
      ]);
    }
    return manifest;
  }

  async function parseManifestFile(file: string): Promise<Manifest & { client_id: string }> {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? `not valid JSON (${(error as Error).message})`;
      throw new ManifestError(file, [reason]);
    }
    return checkManifest(file, json, basename(file, '.json'));
  }

  /** A manifest from the operator (a file): the site is created or replaced. */
  async function save(
    file: string,
    manifest: Manifest & { client_id: string },
    given?: string,
  ): Promise<RegisteredClient> {
    const stored = await repo.secretHashOf(manifest.client_id);
    const generatedSecret =
      usesSharedSecret(manifest) && !given && !manifest.client_secret && !stored
        ? generateSecret()
        : undefined;
    const secret = given ?? manifest.client_secret ?? generatedSecret;
    const secretHash = secret ? hashClientSecret(secret) : null;
    // The stored secret given again changes nothing (a rotation's grace goes on).
    await repo.upsertClient(recordOf(manifest, secretHash === stored ? null : secretHash));
    return {
      file,
      clientId: manifest.client_id,
      ...(generatedSecret && { generatedSecret }),
      ...(stored && secretHash && secretHash !== stored && { replacedSecret: true }),
    };
  }

  return {
    /** `secret`, when given, replaces the manifest's or the stored one (e.g. from a deployment's secret store). */
    async add(file: string, options: { secret?: string } = {}): Promise<RegisteredClient> {
      if (options.secret !== undefined && options.secret.length < 43) {
        throw new ManifestError(file, [
          'the given client secret must have at least 43 characters (256 bits)',
        ]);
      }
      return save(file, await parseManifestFile(file), options.secret);
    },

    /**
     * Replaces a client's secret with a new random one, returned once; the old one keeps working
     * for the grace period, so the department can roll the new one out without an outage —
     * unless it leaked (`endOldNow`): then it stops at once.
     */
    async rotateSecret(
      clientId: string,
      audit?: AuditEvent,
      endOldNow = false,
    ): Promise<{ secret: string; oldValidUntil: Date } | undefined> {
      const secret = generateSecret();
      const graceSeconds = endOldNow ? 0 : options.secretGraceSeconds;
      const done = await repo.setSecretHash(clientId, hashClientSecret(secret), graceSeconds, audit);
      return done ? { secret, oldValidUntil: new Date(Date.now() + graceSeconds * 1000) } : undefined;
    },

    /**
     * A new site from a manifest given as an object (the console, the API): checked like a file,
     * created with its audit row. An id already taken, by any site, is refused: never an update.
     */
    async create(json: Record<string, unknown>, audit: AuditEvent): Promise<RegisteredClient> {
      const manifest = await checkManifest('manifest', json, String(json.client_id ?? ''));
      const generatedSecret =
        usesSharedSecret(manifest) && !manifest.client_secret ? generateSecret() : undefined;
      const secret = manifest.client_secret ?? generatedSecret;
      await repo.insertClient(recordOf(manifest, secret ? hashClientSecret(secret) : null), audit);
      return { file: 'manifest', clientId: manifest.client_id, ...(generatedSecret && { generatedSecret }) };
    },

    /** An existing site's registration replaced by `json` (its secret stays); false when there is none. */
    /**
     * An existing site's registration replaced by `json` (its secret stays); false when there is
     * none. `adminDesignated`: whether the province's designation for admin scopes holds.
     */
    async update(
      json: Record<string, unknown> & { client_id: string },
      audit: AuditEvent,
      adminDesignated: boolean,
    ): Promise<boolean> {
      // The site exists: its id, perhaps one the engine made at registration, is not checked again.
      const manifest = await checkManifest('manifest', { ...json, client_id: undefined }, json.client_id);
      const { secretHash: _kept, ...record } = recordOf(manifest, null);
      return repo.updateClient({ ...record, adminDesignated }, audit);
    },

    /** Validates every manifest in `dir` first; applies them only when all are valid. */
    async sync(dir: string): Promise<RegisteredClient[]> {
      const files = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
      const parsed = [];
      const errors: ManifestError[] = [];
      for (const name of files) {
        const file = join(dir, name);
        try {
          parsed.push({ file, manifest: await parseManifestFile(file) });
        } catch (error) {
          if (!(error instanceof ManifestError)) throw error;
          errors.push(error);
        }
      }
      if (errors.length > 0) throw new AggregateError(errors, errors.map((e) => e.message).join('\n'));
      const results = [];
      for (const { file, manifest } of parsed) results.push(await save(file, manifest));
      return results;
    },
  };
}

/** Authenticates with a shared secret (client_secret_basic, the default, or client_secret_post). */
function usesSharedSecret(manifest: Manifest): boolean {
  return manifest.token_endpoint_auth_method !== 'private_key_jwt';
}

function recordOf(manifest: Manifest & { client_id: string }, secretHash: string | null): ClientRecord {
  return {
    id: manifest.client_id,
    department: manifest.department,
    regionCode: manifest.region_code,
    metadata: toMetadata(manifest),
    secretHash,
    // Whoever saves a manifest listing admin scopes decides for the province: the operator, or a
    // province administrator (admin/service.ts refuses everyone else).
    adminDesignated: listsAdminScope(manifest.scope),
  };
}

/** Manifest → what the provider stores: everything but the secret, which only lives hashed. */
function toMetadata(manifest: Manifest & { client_id: string }): Record<string, unknown> {
  const { client_secret: _secret, scope, ...rest } = manifest;
  // A service account may ask for no scope at all (the provider wants none rather than '').
  const metadata = {
    ...(scope ? { ...rest, scope } : rest),
    ...(manifest.profile === 'fapi2' && FAPI2_FLAGS),
  };
  if (isServiceAccount(manifest)) return { ...metadata, response_types: [], redirect_uris: [] };
  return { response_types: ['code'], grant_types: ['authorization_code'], ...metadata };
}

export type ClientsService = ReturnType<typeof createClientsService>;
