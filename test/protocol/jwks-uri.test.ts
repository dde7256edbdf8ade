/**
 * A site that authenticates with `private_key_jwt` and publishes its keys at a `jwks_uri`: the
 * keys are read from there, and a jwks_uri that failed once is read again on the next request
 * (the engine alone kept the failed read as fresh for 60 s, refusing the site all that time).
 */
import { createServer } from 'node:http';
import test from 'ava';
import { exportJWK, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { startYitong } from '../helpers/yitong.ts';

test('a jwks_uri that answered 500 is read again at the next request: the site is back at once, not after a minute', async (t) => {
  const yitong = await startYitong('postgres');
  t.teardown(() => yitong.stop());
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'site-1', alg: 'ES256', use: 'sig' };
  let failing = true;
  let reads = 0;
  const server = createServer((_req, res) => {
    reads++;
    res.writeHead(failing ? 500 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(failing ? { error: 'server_error' } : { keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const { clientId } = await yitong.addClient({
    client_name: '密钥地址网站',
    department: '测试部门',
    region_code: '440100',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks_uri: `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`,
    grant_types: ['client_credentials'],
    scope: 'openid',
  });
  const config = await client.discovery(
    new URL(yitong.issuer),
    clientId,
    undefined,
    client.PrivateKeyJwt({ key: privateKey, kid: 'site-1' }),
    { execute: [client.allowInsecureRequests] },
  );
  const refused = await t.throwsAsync(client.clientCredentialsGrant(config));
  t.is((refused as client.ResponseBodyError).error, 'invalid_client');
  t.is(reads, 1);
  failing = false;
  const tokens = await client.clientCredentialsGrant(config);
  t.truthy(tokens.access_token, 'the keys read again, at once');
  t.is(reads, 2);
  // Read, they are kept (the engine's minute, or the answer's Cache-Control): not read per request.
  await client.clientCredentialsGrant(config);
  t.is(reads, 2);
});
