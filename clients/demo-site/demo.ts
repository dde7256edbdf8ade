/**
 * `npm run demo`: the provider on the embedded default, the two demo departmental sites of
 * clients/demo/, and a demo citizen — single sign-on and single logout to try in a browser.
 */
import { readFile } from 'node:fs/promises';
import { DEMO_CITIZEN } from '../../src/accounts/demo-citizen.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { isAppError } from '../../src/errors.ts';
import { startServer } from '../../src/main.ts';
import { type DemoSite, startDemoSite } from './site.ts';

const SITES = [
  { manifest: 'demo-tax.json', port: 4001 },
  { manifest: 'demo-social.json', port: 4002 },
];

/** The provider, the two sites and the demo citizen; throws what stops any of them. */
async function startDemo(config: Readonly<Config>) {
  if (config.production) throw new Error('the demo is for development only: unset NODE_ENV=production');
  const provider = await startServer(config);
  const { clients, accounts } = provider.container;

  const sites: DemoSite[] = [];
  for (const { manifest, port } of SITES) {
    const file = new URL(`../demo/${manifest}`, import.meta.url).pathname;
    const { clientId } = await clients.add(file);
    // Each run gives the demo sites a fresh secret, so none needs to be kept anywhere.
    const { secret: clientSecret } = (await clients.rotateSecret(clientId)) as { secret: string };
    const { client_name: title } = JSON.parse(await readFile(file, 'utf8'));
    sites.push(await startDemoSite({ issuer: config.issuer, clientId, clientSecret, port, title }));
  }

  await accounts.register({ ...DEMO_CITIZEN, passwordConfirm: DEMO_CITIZEN.password }).catch((error) => {
    if (!(isAppError(error) && error.code === 'account.exists')) throw error;
  });
  return { provider, sites };
}

let config: Readonly<Config> | undefined;
let demo: Awaited<ReturnType<typeof startDemo>>;
try {
  config = loadConfig();
  demo = await startDemo(config);
} catch (error) {
  // As `npm start` does: one line saying what to do (another process holds DATA_DIR, a bad
  // setting), never a stack trace.
  process.stderr.write(`The Yitong demo cannot start: ${(error as Error).message}\n`);
  process.exit(1);
}
const { provider, sites } = demo;

const titles = SITES.map((_, i) => sites[i]?.url ?? '');
process.stdout.write(`
Yitong demo is running (${provider.container.database.kind}, data in ${config.dataDir}).

  ${config.issuer}   the provider (一通)
  ${titles[0]}   电子税务局（演示）
  ${titles[1]}   社保网上办事大厅（演示）

  Demo citizen: identity number ${DEMO_CITIZEN.idNumber}, password ${DEMO_CITIZEN.password}

Sign in on one site, then open the other and click sign in: no password is asked,
only a consent page for the new site; agree and you are signed in there too (SSO).
Sign out on either: both sites receive a back-channel logout (single logout).
Press Ctrl+C to stop.
`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await Promise.all(sites.map((site) => site.close()));
    await provider.stop();
    process.exit(0);
  });
}
