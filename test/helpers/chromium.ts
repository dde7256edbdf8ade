/**
 * Debian's Chromium driven by playwright-core, with Chrome's virtual authenticator for passkeys,
 * and screenshots: under test-results/screenshots/ (ignored) on every run, so `npm test` leaves
 * the tree as it found it; into docs/screenshots/ for the README only when asked
 * (`SCREENSHOTS_DIR=docs/screenshots npx ava test/browser/`).
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from 'playwright-core';
import { REDIRECT_URI } from './rp.ts';

export const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = new URL(
  `../../${process.env.SCREENSHOTS_DIR ?? 'test-results/screenshots'}/`,
  import.meta.url,
);

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** A platform authenticator with user verification, as a phone or laptop has; returns its id. */
export async function addVirtualAuthenticator(context: BrowserContext, page: Page): Promise<string> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return authenticatorId;
}

/** Saves `name`-desktop.png and `name`-phone.png of the page as it is now (full page). */
export async function screenshots(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const original = page.viewportSize();
  for (const [label, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    await page.screenshot({ path: new URL(`${name}-${label}.png`, SCREENSHOTS).pathname, fullPage: true });
  }
  if (original) await page.setViewportSize(original);
}

/** A browser profile (zh-CN, desktop unless told) whose requests to the sites' redirect URI are answered without a server. */
export async function newProfile(
  browser: Browser,
  options: BrowserContextOptions = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: VIEWPORTS.desktop, ...options });
  await context.route(`${new URL(REDIRECT_URI).origin}/**`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/plain', body: 'site callback' }),
  );
  return { context, page: await context.newPage() };
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical violations on the page as it is now, on a phone (390 px) and
 * a desktop (1280 px): `rule: target` for each. Evaluated through the DevTools protocol, which
 * our Content-Security-Policy does not govern, so the page under test stays unchanged.
 */
export async function axeProblems(page: Page): Promise<string[]> {
  const original = page.viewportSize();
  const found: string[] = [];
  for (const [label, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    await page.evaluate(`${AXE};0`);
    const violations = await page.evaluate(async () => {
      const { violations } = await (
        window as unknown as {
          axe: {
            run(): Promise<{
              violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }>;
            }>;
          };
        }
      ).axe.run();
      return violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
    found.push(...violations.map((violation) => `${label} ${violation}`));
  }
  if (original) await page.setViewportSize(original);
  return found;
}

/** Fills in the sign-in page (zh-CN) with the identity number and password. */
export async function signInWithPassword(page: Page, person: { idNumber: string; password: string }) {
  await page.getByLabel('居民身份证号码').fill(person.idNumber);
  await page.getByLabel('密码', { exact: true }).fill(person.password);
  await page.getByRole('button', { name: '登录', exact: true }).click();
}
