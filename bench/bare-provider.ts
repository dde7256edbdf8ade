/**
 * The ceiling: a bare oidc-provider (the version Yitong runs) with its in-memory store, one static
 * client and no accounts behind it — what the protocol engine alone can do on one core.
 * Its development sign-in form checks the password with argon2id at Yitong's parameters (against
 * one stored hash of PASSWORD), and consent to `openid` counts as given, as Yitong's bench
 * citizens have given it: its password flow is the same five requests and one verification.
 * Started by bench/run.ts: PORT=… CLIENT_SECRET=… PASSWORD=… node bench/bare-provider.ts
 */
import { hash, verify } from '@node-rs/argon2';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { ARGON2_OPTIONS } from '../src/auth/password.ts';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const stored = await hash(process.env.PASSWORD as string, ARGON2_OPTIONS);

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'bench',
      client_secret: process.env.CLIENT_SECRET as string,
      redirect_uris: ['https://bench.example/callback'],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      scope: 'openid profile offline_access',
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'bench' }] },
  cookies: { keys: ['bench-cookie-key-bench-cookie-key-0'] },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub, name: 'bench' }) }),
  claims: { openid: ['sub'], profile: ['name'] },
  scopes: ['openid', 'profile', 'offline_access'],
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
  loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
    const { client, session, provider } = ctx.oidc;
    if (!client || !session?.accountId) return undefined;
    const grantId =
      (ctx.oidc.result?.consent as { grantId?: string } | undefined)?.grantId ??
      session.grantIdFor(client.clientId);
    if (grantId) return provider.Grant.find(grantId);
    const grant = new provider.Grant({ accountId: session.accountId, clientId: client.clientId });
    grant.addOIDCScope('openid');
    await grant.save();
    session.grantIdFor(client.clientId, grant.jti);
    return grant;
  },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: 600,
    ClientCredentials: 600,
    IdToken: 3600,
    RefreshToken: 43_200,
    Session: 43_200,
    Grant: 2_592_000,
  },
});

// The sign-in form's password checked before the engine reads the form (it takes the parsed body).
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path.startsWith('/interaction/')) {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
    if (form.prompt === 'login' && !(await verify(stored, form.password ?? ''))) {
      ctx.status = 403;
      ctx.body = 'wrong password';
      return;
    }
    (ctx.req as typeof ctx.req & { body: unknown }).body = form;
  }
  await next();
});
provider.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
