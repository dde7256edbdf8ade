/**
 * Around the engine's registration requests (RFC 7591/7592) and the bodies of its endpoints: a
 * site's own secret sent on an update, answers that never show the stored hash, a registration
 * settled after its answer (audited, its count given back, undone on a 503), and a body longer
 * than the engine reads refused as such.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { AccountsService } from '../accounts/service.ts';
import type { Limiter } from '../auth/rate-limit.ts';
import type { ClientsRepo } from '../clients/repo.ts';
import { clientSecretMatches, providerSecretOf } from '../clients/service.ts';
import { isOutage } from '../outage.ts';

/**
 * RFC 7592 lets a site send its `client_secret` when it updates its registration, and the
 * provider compares it with the stored value — for us a SHA-256 hash, so the real secret would be
 * refused. Before the provider reads the update, a secret that matches the hash is swapped for
 * the hash; a wrong one goes on as it came and is refused. Answers never carry the hash: a site
 * keeps the secret it was given.
 */
export function ownSecretOnUpdate(registrationPath: string, clients: Pick<ClientsRepo, 'findEnabledClient'>) {
  return async (req: IncomingMessage): Promise<IncomingMessage> => {
    const id =
      req.url?.startsWith(`${registrationPath}/`) && req.method === 'PUT'
        ? req.url.slice(registrationPath.length + 1).split('?')[0]
        : undefined;
    if (!id || !/^application\/json\b/.test(req.headers['content-type'] ?? '')) return req;
    // Declared too long: the provider refuses it by the header alone, without waiting for it.
    if (Number(req.headers['content-length']) > ENGINE_BODY_LIMIT) return req;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      // Answered by app.ts: cut short here, the rest would reach the provider as the whole.
      if (size > ENGINE_BODY_LIMIT) throw new BodyTooLargeError();
      chunks.push(chunk as Buffer);
    }
    let raw = Buffer.concat(chunks);
    try {
      const body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
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

export class BodyTooLargeError extends Error {}

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
 * - an update that failed (503, 500) after its registration access token was rotated keeps the
 *   old token (keepRotatedToken).
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
      if (!answered) await keepRotatedToken(ctx, deps.logger);
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

/**
 * The engine rotates a site's registration access token on an update by destroying the old one
 * before storing the new. An update that fails after that (Redis refusing the new token: a
 * cluster shard down, a full Redis) handed the new token to nobody, and the site's retry with the
 * old one would be refused: locked out of its own registration. The old token is stored again
 * and the new one removed.
 */
async function keepRotatedToken(ctx: KoaContextWithOIDC, logger: Pick<Logger, 'error'>) {
  const { RotatedRegistrationAccessToken: old, RegistrationAccessToken: issued } = ctx.oidc?.entities ?? {};
  if (ctx.oidc?.route !== 'client_update' || !old) return;
  if (issued && issued !== old) await issued.destroy().catch(() => {}); // Redis gone: nobody holds it
  await old
    .save()
    .catch((error) =>
      logger.error({ err: error, client: old.clientId }, 'registration access token not given back'),
    );
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
