/**
 * A site that authenticates with `private_key_jwt` and publishes its keys at a `jwks_uri`: the
 * keys are read from there, and a jwks_uri that failed is read again after 5 s (the engine alone
 * kept a failed read with a JSON body as fresh for 60 s, refusing the site all that time, and
 * read one failing otherwise at every request).
 */
import { createServer } from 'node:http';
import { setTimeout } from 'node:timers/promises';
import test from 'ava';
import { exportJWK, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { startYitong } from '../helpers/yitong.ts';

test('a jwks_uri that answered 500 is read again 5 s later, not at every request and not after a minute', async (t) => {
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
  // Failing, it is not read at every request (anyone may send a client assertion): once in 5 s.
  const burst = await Promise.allSettled(
    Array.from({ length: 20 }, () => client.clientCredentialsGrant(config)),
  );
  t.true(
    burst.every((result) => result.status === 'rejected'),
    'still refused',
  );
  t.true(reads <= 2, `${reads} reads for 21 requests`);
  failing = false;
  const before = reads;
  await setTimeout(5_200);
  const tokens = await client.clientCredentialsGrant(config);
  t.truthy(tokens.access_token, 'read again once the 5 s are over');
  t.is(reads, before + 1);
  // Read, they are kept (the engine's minute, or the answer's Cache-Control): not read per request.
  await client.clientCredentialsGrant(config);
  t.is(reads, before + 1);
});
