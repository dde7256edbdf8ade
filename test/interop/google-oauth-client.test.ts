/**
 * A Java relying party nobody on the team wrote: google-oauth-java-client (Debian's
 * libgoogle-oauth-client-java 1.34) verifying Yitong's ID tokens with its `IdTokenVerifier`. That
 * verifier reads a JWKS only when every key in it is ES256 or RS256
 * (googleapis/google-oauth-java-client#1113), as Yitong's is while no site signs PS256
 * (oidc/keys.ts). Needs `apt-get install openjdk-17-jdk-headless libgoogle-oauth-client-java`
 * (.ci/run installs them).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import test from 'ava';
import { Browser } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import {
  authorizationRequest,
  discoverSite,
  exchangeCode,
  REDIRECT_URI,
  walkAuthorization,
} from '../helpers/rp.ts';
import { startYitong } from '../helpers/yitong.ts';

const JARS = [
  'google-oauth-client',
  'google-http-client',
  'google-http-client-gson',
  'gson',
  'guava',
  'httpclient',
  'httpcore',
  'commons-logging',
  'commons-codec',
  'opencensus-api',
  'opencensus-contrib-http-util',
  'grpc-context',
].map((name) => `/usr/share/java/${name}.jar`);
const available = existsSync('/usr/bin/javac') && JARS.every((jar) => existsSync(jar));

test('google-oauth-java-client’s IdTokenVerifier verifies Yitong’s ES256 and RS256 ID tokens, and refuses one changed by a character or meant for another site', async (t) => {
  if (!available) return t.fail('apt-get install openjdk-17-jdk-headless libgoogle-oauth-client-java');
  const yitong = await startYitong('postgres');
  t.teardown(() => yitong.stop());
  const person = newCitizen();
  await yitong.createCitizen(person);
  const browser = new Browser();
  const tokens = new Map<string, { clientId: string; idToken: string }>();
  for (const alg of ['ES256', 'RS256']) {
    const { clientId, clientSecret } = await yitong.addClient({
      client_name: `Java 网站 ${alg}`,
      department: '测试部门',
      region_code: '440100',
      redirect_uris: [REDIRECT_URI],
      scope: 'openid',
      id_token_signed_response_alg: alg,
    });
    const site = await discoverSite(yitong.issuer, clientId, clientSecret);
    const pending = await authorizationRequest(site, { scope: 'openid' });
    const walk = await walkAuthorization(browser, pending.url, person);
    const { id_token } = await exchangeCode(site, walk.callbackUrl, pending);
    tokens.set(alg, { clientId, idToken: id_token ?? '' });
  }
  const es = tokens.get('ES256') as { clientId: string; idToken: string };
  const rs = tokens.get('RS256') as { clientId: string; idToken: string };
  // One character of the signature changed (not its last, whose low bits may not count).
  const at = es.idToken.lastIndexOf('.') + 6;
  const changed = `${es.idToken.slice(0, at)}${es.idToken[at] === 'A' ? 'B' : 'A'}${es.idToken.slice(at + 1)}`;

  const { stdout, stderr } = await promisify(execFile)(
    'java',
    [
      '-cp',
      JARS.join(':'),
      'test/interop/IdTokenCheck.java',
      yitong.issuer,
      ...[es.clientId, es.idToken, rs.clientId, rs.idToken, es.clientId, changed, rs.clientId, es.idToken],
    ],
    { timeout: 120_000 },
  );
  t.deepEqual(stdout.trim().split('\n'), ['verified', 'verified', 'refused', 'refused'], stderr);
});
