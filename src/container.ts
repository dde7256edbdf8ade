/**
 * The composition root: storage → repos → services → provider, in plain code, once.
 * The server and the CLI build the same container from the same configuration.
 *
 * @example
 *   const container = await createContainer(loadConfig());
 *   await container.close();
 */

import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { createDeletion } from './accounts/deletion.ts';
import { createIdentityLevels } from './accounts/identity-levels.ts';
import { createNotices } from './accounts/notices.ts';
import { createPasswordReset } from './accounts/password-reset.ts';
import { createPersonCache } from './accounts/person-cache.ts';
import { createPhoneChange } from './accounts/phone.ts';
import { createRecovery } from './accounts/recovery.ts';
import { createAccountsRepo, type Person } from './accounts/repo.ts';
import { createAccountsService } from './accounts/service.ts';
import { createAdminRepo } from './admin/repo.ts';
import { createAdminService } from './admin/service.ts';
import { CatalogueError, loadCatalogue } from './attributes/catalogue.ts';
import { createAttributesRepo } from './attributes/repo.ts';
import { createSources } from './attributes/sources.ts';
import { createRedisEphemeralStore, createSqlEphemeralStore } from './auth/ephemeral.ts';
import { LIMITS, type LimitName, type LimitSetting } from './auth/limits.ts';
import { createOneTimeCodes } from './auth/one-time-codes.ts';
import { createPasskeyService } from './auth/passkeys.ts';
import { createLimiter, createRedisCounters, createSqlCounters } from './auth/rate-limit.ts';
import { createFactorsRepo } from './auth/repo.ts';
import { createSignIn } from './auth/sign-in.ts';
import { createClientsRepo } from './clients/repo.ts';
import { createClientsService } from './clients/service.ts';
import type { Config } from './config.ts';
import { ConfigError } from './config-error.ts';
import type { SourceConfig } from './config-services.ts';
import { openDatabase } from './db/database.ts';
import { asUnreachable } from './db/errors.ts';
import { migrate, type OnMigrationApplied } from './db/migrate.ts';
import { createFederation } from './federation/linking.ts';
import { upstreamLogouts } from './federation/logout.ts';
import { createUpstreams } from './federation/store.ts';
import { createSealer } from './identity/crypto.ts';
import { createHttpVerifier, type IdentityVerifier, loadFileVerifier } from './identity/verifier.ts';
import { type BusinessRegistry, createHttpRegistry, loadFileRegistry } from './legal-persons/registry.ts';
import { createLegalPersonsRepo } from './legal-persons/repo.ts';
import { createLegalPersonsService } from './legal-persons/service.ts';
import { createNotifier } from './notify/notifier.ts';
import { createRedisAdapter } from './oidc/adapters/redis.ts';
import { createSqlAdapter } from './oidc/adapters/sql.ts';
import { createClientAdapter } from './oidc/client-adapter.ts';
import { createSiteDirectory } from './oidc/directory.ts';
import { loadSigningKeys, type SigningKeys, SigningKeysUnreadableError } from './oidc/keys.ts';
import { observeProvider } from './oidc/observe.ts';
import { createProvider } from './oidc/provider.ts';
import { forgetPrecomputed } from './oidc/provider-middleware.ts';
import { issueInitialAccessToken } from './oidc/registration.ts';
import { createSites } from './oidc/sites.ts';
import { createSwappable } from './oidc/swappable.ts';
import { createMetrics } from './ops/metrics.ts';
import { createOutages, isOutage } from './outage.ts';
import { connectRedis } from './redis.ts';
import { createPlaces } from './sessions/devices.ts';
import { createSessionsRepo } from './sessions/repo.ts';
import { createSessionsService } from './sessions/service.ts';

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    // Defence in depth: none of these should ever reach a log line.
    redact: [
      'password',
      '*.password',
      'client_secret',
      '*.client_secret',
      'id_number',
      '*.id_number',
      'req.headers.authorization',
      'req.headers.cookie',
    ],
  });
}

export async function createContainer(
  config: Readonly<Config>,
  logger: Logger = createLogger(config),
  options: { onMigrationApplied?: OnMigrationApplied } = {},
) {
  const metrics = createMetrics();
  const outages = createOutages(logger, (dependency) => metrics.dependencyErrors.inc({ dependency }));
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: join(config.dataDir, 'pglite'),
    connectTimeoutMs: config.timeouts.databaseConnectMs,
    statementTimeoutMs: config.timeouts.databaseStatementMs,
    outages,
  });
  const closers: Array<() => Promise<unknown>> = [() => database.close()];
  try {
    // Before anything reads a table: opening the database brings it up to date.
    const migrationsApplied = await migrate(database, (name, progress) => {
      logger.info({ migration: name }, 'migration applied');
      options.onMigrationApplied?.(name, progress);
    }).catch((error: unknown) => {
      throw asUnreachable(error, config.databaseUrl);
    });
    const redis = config.redis
      ? await connectRedis(config.redis, { commandTimeoutMs: config.timeouts.redisCommandMs, outages })
      : undefined;
    if (redis) closers.unshift(() => redis.close());

    const sealer = createSealer(config.secrets.dataKey, config.secrets.hmacKey);
    const counters = {
      ...(redis ? createRedisCounters(redis, config.redisPrefix) : createSqlCounters(database.db)),
      refused: (limit: string) => metrics.refusals.inc({ limit }),
    };
    // Every limit from one table (auth/limits.ts), as the operator tuned it (RATE_LIMITS).
    // Counters keyed by a phone number hold a keyed hash of it, never the number.
    const hideKey = (key: string) => sealer.index(`rate-limit:${key}`).toString('base64url');
    const limiter = (name: LimitName) => {
      const { hidden, ...setting }: LimitSetting = { ...LIMITS[name], ...config.rateLimits[name] };
      return createLimiter(counters, { name, ...setting, ...(hidden && { hideKey }) });
    };
    const notifier = createNotifier(config.notifier, logger);
    const notify = createNotices(notifier, limiter('notice:phone'));
    // Anyone can try to register with someone's number: those notices have a budget of their own
    // (one a day), so they can neither silence the security notices above nor flood the phone.
    const notifyRegistrationAttempt = createNotices(notifier, limiter('notice:registration'));
    // People read on the hot paths, kept while this node hears every change (followChanges).
    const people = createPersonCache<Person | undefined>();
    const accountsRepo = createAccountsRepo(database.db, people.forget);
    const accounts = createAccountsService(
      {
        ...accountsRepo,
        findPersonById: (id: string) => people.get(id, () => accountsRepo.findPersonById(id)),
      },
      sealer,
      notifyRegistrationAttempt,
      {
        passwordPerAccountAndAddress: limiter('pwd:acct+ip'),
        passwordPerAccount: limiter('pwd:acct'),
        passwordPerAccountAndNetwork: limiter('pwd:acct+net'),
        passwordUnderAttack: limiter('pwd:acct:fresh'),
        passwordPerAddress: limiter('pwd:ip'),
        registrationPerAddress: limiter('reg:ip'),
      },
      {
        signIn: (method, acr, result) => metrics.signIns.inc({ method, acr, result }),
      },
    );
    const ephemeral = redis
      ? createRedisEphemeralStore(redis, config.redisPrefix)
      : createSqlEphemeralStore(database.db);
    const factors = createFactorsRepo(database.db);
    const passkeys = createPasskeyService({
      repo: factors,
      ephemeral,
      issuer: config.issuer,
      rpName: '一通',
      failuresPerAddress: limiter('passkey:ip'),
    });
    const codes = createOneTimeCodes({
      repo: factors,
      sealer,
      ephemeral,
      attemptsPerAccountAndAddress: limiter('otp:acct+ip'),
      attemptsPerAccount: limiter('otp:acct'),
    });
    const signIn = createSignIn({ ephemeral, factors });
    const levels = createIdentityLevels({
      repo: accountsRepo,
      accounts,
      verifier: await openVerifier(config.identityVerifier),
      ephemeral,
      checksPerPerson: limiter('idv:acct'),
      lookUpsPerStaff: limiter('staff:lookup'),
    });
    const clientsRepo = createClientsRepo(database.db);
    const legalPersonsRepo = createLegalPersonsRepo(database.db);
    const attributesRepo = createAttributesRepo(database.db);
    const catalogue = await loadCatalogue(config.attributesDir).catch((error: unknown) => {
      if (error instanceof CatalogueError || (error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new ConfigError(
          'ATTRIBUTES_DIR',
          `(${config.attributesDir}) is not a valid catalogue: ${(error as Error).message}`,
        );
      throw error;
    });
    // The upstream identity providers `yitong upstreams sync` stored; reloaded on every change.
    const upstreamsStore = createUpstreams({
      db: database.db,
      sealer,
      production: config.production,
      logger,
    });
    const upstreams = upstreamsStore.live;
    const sources = createSources({
      repo: attributesRepo,
      catalogue,
      personIds: async (idNumbers) => {
        const keyOf = (idNumber: string) => sealer.index(idNumber);
        const ids = await accountsRepo.idsByHash(idNumbers.map(keyOf));
        return new Map(
          idNumbers.flatMap((n) => {
            const id = ids.get(keyOf(n).toString('base64url'));
            return id ? [[n, id] as const] : [];
          }),
        );
      },
      entityIds: legalPersonsRepo.currentIdsByCode,
      idNumberOf: async (personId) => {
        const person = await accounts.findPerson(personId);
        return person && accounts.revealIdNumber(person);
      },
    });
    const legalPersons = createLegalPersonsService({
      repo: legalPersonsRepo,
      accounts,
      sealer,
      registry: await openRegistry(config.businessRegistry),
      registryChecksPerPerson: limiter('registry:acct'),
      clientExists: async (id) => Boolean(await clientsRepo.findEnabledClient(id)),
    });
    const federation = createFederation({
      db: database.db,
      sealer,
      accountsRepo,
      findPersonByIdNumber: accounts.findPersonByIdNumber,
    });
    let signing = await loadSigningKeys(database.db, sealer).catch((error: unknown) => {
      // Start-up's first decryption: a data key other than the one the data was written with
      // shows here, and is the operator's to fix.
      if (error instanceof SigningKeysUnreadableError)
        throw new ConfigError(
          config.secrets.dataKeyName,
          "does not decrypt this database's data (signing keys): it must be the key the data was written with",
        );
      throw error;
    });
    // After the signing keys: a wrong data key is named in one line before a stored upstream fails.
    await upstreamsStore.reload();
    const artifacts = redis
      ? createRedisAdapter(redis, config.redisPrefix, { oneConnection: config.redis?.kind !== 'cluster' })
      : createSqlAdapter(database.db);
    const clientAdapter = createClientAdapter(clientsRepo);
    const { provider, swap } = createSwappable(() =>
      createProvider({
        config,
        signingKeys: signing.keys,
        registrationsPerDepartment: limiter('site-reg:dept'),
        unpublished: () => signing.unpublished,
        artifacts,
        clientAdapter,
        clients: clientsRepo,
        accounts,
        legalPersons,
        catalogue,
        attributes: attributesRepo,
        upstreamLogouts: upstreamLogouts(upstreams, federation),
        logger,
        outages,
      }),
    );
    // What another node changed reaches this one at once: a site's registration, a signing key.
    // A rotated key begins signing at its time with no NOTIFY: each load says when to load again.
    let keysTimer: NodeJS.Timeout | undefined;
    // One load at a time, so that an older one never finishes last: a change heard during a load
    // brings one more after it (however many were heard; a `clients sync` may bring hundreds).
    let loading: Promise<void> | undefined;
    let loadAgain = false;
    let closed = false;
    closers.unshift(async () => {
      closed = true;
      clearTimeout(keysTimer);
      await loading;
    });
    const reloadKeysAfter = (ms: number) => {
      clearTimeout(keysTimer);
      // setTimeout's longest wait is 24.8 days; a later start is reached in steps.
      if (!closed) keysTimer = setTimeout(reloadKeysLogged, Math.min(ms, 2 ** 31 - 1)).unref();
    };
    const reloadKeys = async () => {
      const loaded = await loadSigningKeys(database.db, sealer);
      if (loaded.nextChangeInMs === undefined) clearTimeout(keysTimer);
      else reloadKeysAfter(loaded.nextChangeInMs);
      // The same keys in the same order and roles (a key's time coming changes its key_ops, alg)?
      const shape = ({ keys }: SigningKeys) =>
        keys.map((key) => `${key.kid} ${key.alg} ${key.key_ops}`).join();
      const published = ({ unpublished }: SigningKeys) => unpublished.join();
      const before = signing;
      if (closed || (shape(loaded) === shape(before) && published(loaded) === published(before))) return;
      signing = loaded;
      try {
        // Only the JWKS changes when only what it shows does: the engine's keys are the same.
        if (shape(loaded) === shape(before)) forgetPrecomputed(provider);
        else swap();
      } catch (error) {
        signing = before; // tried again at the next change, or in 10 s
        throw error;
      }
      logger.info({ kid: signing.keys[0]?.kid, unpublished: signing.unpublished }, 'signing keys reloaded');
    };
    const reloadKeysLogged = (): void => {
      if (closed) return;
      if (loading) {
        loadAgain = true;
        return;
      }
      loading = reloadKeys()
        .catch((error) => {
          // A key due to begin signing must not wait for the next change to be heard. A database
          // lost or cut off (logged once, as the outage starts) is asked again sooner: a rotation
          // heard just as a silenced connection was replaced must not wait 10 s more.
          if (isOutage(error)) return reloadKeysAfter(2_000);
          logger.warn({ err: error }, 'signing keys not reloaded');
          reloadKeysAfter(10_000);
        })
        .finally(() => {
          loading = undefined;
          if (loadAgain) {
            loadAgain = false;
            reloadKeysLogged();
          }
        });
    };
    // A reload that failed (the database down as the listening connection came back) is tried
    // again: no other change may come to bring it.
    let upstreamsTimer: NodeJS.Timeout | undefined;
    closers.unshift(async () => clearTimeout(upstreamsTimer));
    const reloadUpstreamsLogged = (): void => {
      clearTimeout(upstreamsTimer);
      void upstreamsStore.reload().catch((error) => {
        // An outage is logged once, as it starts.
        if (!isOutage(error)) logger.warn({ err: error }, 'upstreams not reloaded: trying again in 10 s');
        if (!closed) upstreamsTimer = setTimeout(reloadUpstreamsLogged, 10_000).unref();
      });
    };
    /** A serving node hears what the others change (the CLI, which changes and exits, does not). */
    const followChanges = () =>
      database.listen(
        (change) => {
          if (change.kind === 'client') {
            clientAdapter.forget(change.id);
            // A site that now signs PS256, or no longer does, publishes or withdraws those keys.
            if (change.signing) reloadKeysLogged();
          } else if (change.kind === 'person') people.forget(change.id);
          else if (change.kind === 'upstreams') reloadUpstreamsLogged();
          else reloadKeysLogged();
        },
        () => {
          clientAdapter.forget();
          people.follow(true);
          reloadKeysLogged();
          reloadUpstreamsLogged();
        },
        () => people.follow(false),
      );
    const clients = createClientsService(clientsRepo, {
      production: config.production,
      secretGraceSeconds: config.clientSecretGraceSeconds,
      validateMetadata: async (metadata) => {
        await provider.Client.validate(metadata as never);
      },
    });

    const directory = createSiteDirectory(provider);
    const sessions = createSessionsService(
      createSessionsRepo(database.db, people.forget),
      createPlaces(config.ipAreas),
    );
    const sites = createSites({
      provider,
      repo: accountsRepo,
      sessions,
      logger,
    });
    provider.on('authorization.success', (ctx) => {
      sites.record(ctx).catch((error) => logger.error({ err: error }, 'site grant not recorded'));
    });
    observeProvider(provider, metrics, database, logger);
    const phones = createPhoneChange({
      repo: accountsRepo,
      ephemeral,
      notifier,
      notify,
      sendsPerAccount: limiter('sms:acct'),
      sendsPerAccountAndNumber: limiter('sms:acct+phone'),
      sendsPerNumber: limiter('sms:phone'),
      wrongCodesPerAccount: limiter('sms-code:acct'),
    });
    const deletion = createDeletion({
      repo: accountsRepo,
      soleManagerOf: legalPersonsRepo.soleManagerOf,
      logOutEverywhere: sites.endEverything,
      notify,
    });
    const recovery = createRecovery({
      repo: accountsRepo,
      sealer,
      ephemeral,
      notifier,
      notify,
      factorsOf: async (personId) => {
        const { passkeys, totp } = await factors.factorSummary(personId);
        return { passkey: passkeys > 0, totp };
      },
      sendsPerAccount: limiter('recover:acct+phone'),
      sendsPerNumber: limiter('recover:phone'),
      sendsPerAddress: limiter('recover:ip'),
      wrongCodes: limiter('recover-code:flow'),
    });
    const passwordReset = createPasswordReset({
      repo: accountsRepo,
      ephemeral,
      notifier,
      notify,
      revealIdNumber: accounts.revealIdNumber,
      issuer: config.issuer,
    });
    const admin = createAdminService({
      passwordReset,
      issueRegistrationToken: (request, actor) =>
        issueInitialAccessToken(provider, clientsRepo, request, actor),
      repo: createAdminRepo(database.db),
      accountsRepo,
      accounts,
      factors,
      legalPersons,
      sealer,
      clients,
      clientsRepo,
      attributesRepo,
      sites,
    });

    return {
      config,
      logger,
      outages,
      /** Set when the node is shutting down: /readyz says so, so balancers stop sending requests. */
      lifecycle: { draining: false },
      database,
      /** What opening the database applied (`yitong migrate` reports them). */
      migrationsApplied,
      accountsRepo,
      redis,
      sealer,
      accounts,
      factors,
      passkeys,
      codes,
      signIn,
      levels,
      legalPersons,
      admin,
      passwordReset,
      recovery,
      sources,
      attributesRepo,
      catalogue,
      upstreams,
      upstreamsStore,
      federation,
      ephemeral,
      sites,
      sessions,
      phones,
      deletion,
      clients,
      clientsRepo,
      directory,
      provider,
      metrics,
      followChanges,
      async close() {
        for (const close of closers) await close().catch(() => {});
      },
    };
  } catch (error) {
    for (const close of closers) await close().catch(() => {});
    throw error;
  }
}

function openVerifier(config: SourceConfig): Promise<IdentityVerifier | undefined> | undefined {
  if (config.kind === 'http') return Promise.resolve(createHttpVerifier(config));
  if (config.kind === 'file') return loadFileVerifier(config.path);
  return undefined;
}

function openRegistry(config: SourceConfig): Promise<BusinessRegistry | undefined> | undefined {
  if (config.kind === 'http') return Promise.resolve(createHttpRegistry(config));
  if (config.kind === 'file') return loadFileRegistry(config.path);
  return undefined;
}

export type Container = Awaited<ReturnType<typeof createContainer>>;
