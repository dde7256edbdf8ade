/**
 * An upstream nobody on the team wrote the sign-in of: a bare oidc-provider configured only from
 * its documentation (its development login and consent pages, its memory store). Whoever signs
 * in there with an identity number as the login name is asserted as that person, at identity
 * level 2, under the scopes `profile` and `id_number`.
 */
import type { Server } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { freePort } from './yitong.ts';

/** Its address before it runs: the relying party's manifest names it first. */
export const bareIssuer = async () => `http://127.0.0.1:${await freePort()}`;

export async function bareUpstream(
  issuer: string,
  client: { id: string; secret: string; redirectUri: string },
) {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  let server: Server | undefined;
  const port = Number(new URL(issuer).port);
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: client.id,
        client_secret: client.secret,
        redirect_uris: [client.redirectUri],
        scope: 'openid profile id_number',
        // Its one key is an EC key (the default, RS256, would need an RSA one).
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'bare' }] },
    cookies: { keys: ['bare-upstream-cookie-key-0123456789'] },
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, id_number: sub, name: '外省居民', identity_level: 2 }),
    }),
    claims: { openid: ['sub'], profile: ['name', 'identity_level'], id_number: ['id_number'] },
    scopes: ['openid', 'profile', 'id_number'],
    features: { devInteractions: { enabled: true } },
  });
  await new Promise<void>((resolve) => {
    server = provider.listen(port, '127.0.0.1', resolve);
  });
  return {
    issuer,
    close: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
}
