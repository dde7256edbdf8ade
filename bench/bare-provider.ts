/**
 * The ceiling: a bare oidc-provider (the version Yitong runs) with its in-memory store, one static
 * client and no accounts behind it — what the protocol engine alone can do on one core.
 * Started by bench/run.ts: PORT=… CLIENT_SECRET=… node bench/bare-provider.ts
 */
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = await generateKeyPair('ES256', { extractable: true });

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
provider.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
