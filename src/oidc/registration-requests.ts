/**
 * Around the engine's registration requests (RFC 7591/7592) and the bodies of its endpoints: a
 * body that is not UTF-8 refused, a site's own secret sent on an update, answers that never show
 * the stored hash, a registration settled after its answer (audited, its count given back,
 * undone on a 503), and a body longer than the engine reads refused as such.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import Provider, { type Adapter, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { AccountsService } from '../accounts/service.ts';
import type { Limiter } from '../auth/rate-limit.ts';
import type { ClientsRepo } from '../clients/repo.ts';
import { clientSecretMatches, providerSecretOf } from '../clients/service.ts';
import { isOutage } from '../outage.ts';
import { temporarilyUnavailable } from './provider-middleware.ts';

/**
 * A registration's or an update's JSON body, read before the provider reads it:
 * - not UTF-8, it is refused (the provider would store U+FFFD in the site's name);
 * - RFC 7592 lets a site send its `client_secret` when it updates its registration, and the
 *   provider compares it with the stored value — for us a SHA-256 hash, so the real secret would
 *   be refused. A secret that matches the hash is swapped for the hash; a wrong one goes on as it
 *   came and is refused. Answers never carry the hash: a site keeps the secret it was given.
 */
export function registrationBodies(
  registrationPath: string,
  clients: Pick<ClientsRepo, 'findEnabledClient'>,
) {
  return async (req: IncomingMessage): Promise<IncomingMessage> => {
    // The path as the engine's router reads it: no query or fragment, a trailing slash or two
    // ignored (`/reg/` is the registration endpoint too).
    const path = (req.url ?? '').split(/[?#]/)[0]?.replace(/(?<=.)\/+$/, '') ?? '';
    const id =
      req.method === 'PUT' && path.startsWith(`${registrationPath}/`)
        ? path.slice(registrationPath.length + 1)
        : undefined;
    const registration = req.method === 'POST' && path === registrationPath;
    // Whatever its type says: the engine reads `Application/JSON` as JSON too.
    if (!(id || registration)) return req;
    // Declared too long: the provider refuses it by the header alone, without waiting for it.
    if (Number(req.headers['content-length']) > ENGINE_BODY_LIMIT) return req;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      // Cut short here, the rest would reach the provider as the whole.
      if (size > ENGINE_BODY_LIMIT) throw new RefusedBody(BODY_TOO_LARGE);
      chunks.push(chunk as Buffer);
    }
    let raw = Buffer.concat(chunks);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw new RefusedBody(BODY_NOT_UTF8);
    }
    if (!id || !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return replay(req, raw);
    try {
      const body = JSON.parse(text) as Record<string, unknown>;
      const found =
        typeof body.client_secret === 'string' && (await clients.findEnabledClient(decodeURIComponent(id)));
      const stored = found && providerSecretOf(found);
      if (stored && clientSecretMatches(stored, body.client_secret as string))
        raw = Buffer.from(JSON.stringify({ ...body, client_secret: stored }));
    } catch (error) {
      // Not JSON: the provider says so. The site not found for an outage: a 503 (app.ts).
      if (isOutage(error)) throw error;
    }
    return replay(req, raw);
  };
}

/** The longest body the engine reads (oidc-provider's shared/selective_body.js). */
export const ENGINE_BODY_LIMIT = 56 * 1024;

/** A protocol endpoint's answer to a longer body (the engine's own says "failed to parse the request body"). */
export const BODY_TOO_LARGE = {
  error: 'invalid_request',
  error_description: `the request body is larger than the ${ENGINE_BODY_LIMIT / 1024} KiB this endpoint takes`,
};

const BODY_NOT_UTF8 = {
  error: 'invalid_client_metadata',
  error_description: 'the request body is not UTF-8: send the JSON encoded as UTF-8',
};

/** A body refused before the provider reads it, with the answer (400) that says why. */
export class RefusedBody extends Error {
  readonly answer: { error: string; error_description: string };
  constructor(answer: { error: string; error_description: string }) {
    super(answer.error_description);
    this.answer = answer;
  }
}

/** The same request with `body` to read (the original stream was read here). */
export function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  return Object.assign(Readable.from([body]), {
    method: req.method,
    url: req.url,
    socket: req.socket,
    httpVersion: req.httpVersion,
    complete: true, // read whole: nothing of it is left unread (closeUnreadBody)
    headers: { ...req.headers, 'content-length': String(body.length) },
  }) as unknown as IncomingMessage;
}

/**
 * After a registration or an update (mounted outside `outageAnswer`, which makes its 503s):
 * - answered 201, the site is in the audit trail (recorded once the answer is settled: a 503
 *   below registers nothing);
 * - refused (4xx, the engine's own checks of the metadata come after the department's count),
 *   it is given back: only what is stored counts against the hour's quota;
 * - answered 503 after the site was stored (its registration access token could not be, Redis
 *   gone), the site was handed to nobody: no one holds its secret or its token. It is taken out
 *   again (disabled, as RFC 7592's delete does) and the trail says why, so the department's
 *   retry registers one site, not a second beside an orphan;
 * - an update that answered below 500 destroys the registration access token it rotated away
 *   (holdBackRotation); one that failed keeps it, and the new one is removed.
 */
export function settleRegistration(deps: {
  clients: Pick<ClientsRepo, 'disable'>;
  writesPerDepartment: Pick<Limiter, 'refund'>;
  accounts: Pick<AccountsService, 'recordClientRegistration'>;
  logger: Pick<Logger, 'error'>;
}) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    let answered = false;
    try {
      await next();
      answered = ctx.status < 500;
    } finally {
      await settleRotation(ctx, answered);
    }
    const registered = ctx.oidc?.route === 'registration' && ctx.status === 201 && ctx.oidc.entities.Client;
    if (registered) {
      const { department, region_code } = registered.metadata();
      await deps.accounts
        .recordClientRegistration(registered.clientId, { department, region_code }, ctx.ip)
        .catch((error) => deps.logger.error({ err: error }, 'registration not audited'));
    }
    const department = ctx.state.countedFor as string | undefined;
    const created = ctx.oidc?.route === 'registration';
    // An update answered 503 may have been stored before its token's rotation failed: it counts.
    const failed =
      (ctx.status >= 400 && ctx.status < 500 && ctx.status !== 429) || (created && ctx.status === 503);
    if (!department || !failed) return;
    await deps.writesPerDepartment.refund(department).catch(() => {}); // Redis gone: it expires
    const client = ctx.oidc?.entities.Client;
    if (ctx.status !== 503 || !created || !client) return;
    await deps.clients
      .disable(client.clientId, {
        actor: 'registration',
        action: 'client.registration_undone',
        subject: client.clientId,
        ip: ctx.ip,
        details: { client_id: client.clientId, reason: 'its answer failed (503): nothing was handed out' },
      })
      .catch((error) =>
        deps.logger.error({ err: error, client: client.clientId }, 'unanswered registration not undone'),
      );
  };
}

/** The registration access token each update rotated away, destroyed once the update answered. */
const rotatedAway = new WeakMap<object, () => Promise<void>>();

/**
 * The store of registration access tokens, but for an update: the engine rotates the site's
 * token by destroying the old one before storing the new, and an update that then failed (Redis
 * refusing the new token: a cluster shard down, a full Redis) would have handed the new token
 * to nobody and locked the site out of its registration. The old one is destroyed only once
 * the update answered below 500 (settleRegistration), so a failed update leaves it as it was:
 * nothing destroyed is ever stored again, and a token another request rotated away stays dead.
 * A destroy that fails then answers 503, the new token removed.
 */
export function holdBackRotation(adapter: Adapter): Adapter {
  return {
    ...adapter,
    destroy(id) {
      const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
      if (ctx?.oidc?.route !== 'client_update') return adapter.destroy(id);
      rotatedAway.set(ctx, () => adapter.destroy(id));
      return Promise.resolve();
    },
  };
}

/** After an update: the rotated-away token destroyed if it answered below 500, else the new one. */
async function settleRotation(ctx: KoaContextWithOIDC, answered: boolean) {
  const destroyRotated = rotatedAway.get(ctx);
  if (!destroyRotated) return;
  const destroyed =
    answered &&
    (await destroyRotated().then(
      () => true,
      () => false,
    ));
  if (destroyed) return;
  // Stored or not, the new one was handed to nobody (Redis gone: no one can use it either).
  await ctx.oidc.entities.RegistrationAccessToken?.destroy().catch(() => {});
  if (answered) temporarilyUnavailable(ctx);
}

/** Registration answers (RFC 7591/7592 reads and updates) never show the stored hash of a secret. */
export async function hideStoredSecret(ctx: KoaContextWithOIDC, next: () => Promise<void>) {
  await next();
  const body = ctx.body as Record<string, unknown> | undefined;
  if (typeof body?.client_secret === 'string' && body.client_secret.startsWith('sha256:')) {
    delete body.client_secret;
    delete body.client_secret_expires_at;
  }
}
