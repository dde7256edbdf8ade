/**
 * A hostile (or broken) upstream identity provider on a spare port, for the checks Yitong must
 * make of an upstream's answer: it answers discovery, JWKS, authorization, token and UserInfo
 * like a provider, but signs ID tokens as `tamper` says — another issuer, another audience,
 * another nonce, another key, or expired — or fails its token, UserInfo or JWKS endpoint.
 */
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

/** How the ID token is signed wrong; `token-500`, `userinfo-500`, `jwks-500`: that endpoint fails instead. */
export type Tamper =
  | 'none'
  | 'iss'
  | 'aud'
  | 'nonce'
  | 'signature'
  | 'expired'
  | 'token-500'
  | 'userinfo-500'
  | 'jwks-500';

export interface HostileUpstream {
  issuer: string;
  tamper: Tamper;
  /** The identity it asserts. */
  person: { sub: string; id_number: string; name: string };
  close(): Promise<void>;
}

export async function hostileUpstream(clientId: string): Promise<HostileUpstream> {
  const [key, other] = await Promise.all([generateKeyPair('ES256'), generateKeyPair('ES256')]);
  const jwk: JWK = { ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const codes = new Map<string, string>();
  let issuer = '';
  const upstream: HostileUpstream = {
    issuer: '',
    tamper: 'none',
    person: { sub: 'hostile-1', id_number: '', name: '' },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', issuer);
    const json = (body: unknown) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(body));
    };
    if (url.pathname === `/${upstream.tamper.replace('-500', '')}` && upstream.tamper.endsWith('-500')) {
      response.statusCode = 500;
      return response.end('Internal Server Error');
    }
    if (url.pathname === '/.well-known/openid-configuration')
      return json({
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        userinfo_endpoint: `${issuer}/userinfo`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256'],
        code_challenge_methods_supported: ['S256'],
      });
    if (url.pathname === '/jwks') return json({ keys: [jwk] });
    if (url.pathname === '/authorize') {
      const code = `code-${codes.size}`;
      codes.set(code, url.searchParams.get('nonce') ?? '');
      const back = new URL(url.searchParams.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      response.statusCode = 302;
      response.setHeader('location', back.href);
      return response.end();
    }
    if (url.pathname === '/token') {
      let body = '';
      for await (const chunk of request) body += chunk;
      const nonce = codes.get(new URLSearchParams(body).get('code') ?? '') ?? '';
      const now = Math.floor(Date.now() / 1000);
      const { tamper } = upstream;
      const idToken = await new SignJWT({ nonce: tamper === 'nonce' ? 'another-nonce' : nonce })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(tamper === 'iss' ? 'https://elsewhere.example' : issuer)
        .setAudience(tamper === 'aud' ? 'another-client' : clientId)
        .setSubject(upstream.person.sub)
        .setIssuedAt(tamper === 'expired' ? now - 7200 : now)
        .setExpirationTime(tamper === 'expired' ? now - 3600 : now + 300)
        .sign(tamper === 'signature' ? other.privateKey : key.privateKey);
      return json({ access_token: 'at-1', token_type: 'Bearer', expires_in: 300, id_token: idToken });
    }
    if (url.pathname === '/userinfo') return json(upstream.person);
    response.statusCode = 404;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  issuer = `http://127.0.0.1:${port}`;
  upstream.issuer = issuer;
  return upstream;
}
