/** A citizen's own pages through the cookie-keeping Browser: sign in to /account, turn on TOTP. */
import { type Browser, type Page, submit } from './browser.ts';
import { Authenticator, currentStep, totpCode } from './totp.ts';

export interface Credentials {
  idNumber: string;
  password: string;
  /** Once enrolled: the sign-in then answers the second-factor page with it. */
  authenticator?: Authenticator;
}

/** Signs in through the provider (as the account page does) and returns the page at `path`. */
export async function signInTo(
  browser: Browser,
  issuer: string,
  person: Credentials,
  path = '/account',
): Promise<Page> {
  let page = await browser.visit(`${issuer}${path}`);
  if (page.html.includes('name="password"'))
    page = await submit(browser, page, '/login', { id_number: person.idNumber, password: person.password });
  if (page.html.includes('name="otp"') && person.authenticator)
    page = await submit(browser, page, '/otp', { otp: await person.authenticator.nextCode() });
  return page;
}

/** Turns on the authenticator app from the account page; returns the secret and the recovery codes. */
export async function enrolTotp(browser: Browser, issuer: string) {
  const enrolment = await browser.visit(`${issuer}/account/totp`);
  const secret = enrolment.html.match(/data-secret="([A-Z2-7]+)"/)?.[1];
  if (!secret)
    throw new Error(`no TOTP secret on the page: ${enrolment.status} ${enrolment.html.slice(0, 300)}`);
  const step = currentStep();
  const done = await submit(browser, enrolment, '/account/totp', { otp: totpCode(secret, step) });
  const authenticator = new Authenticator(secret);
  authenticator.used(step);
  const recoveryCodes = [...done.html.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map(
    (m) => m[1] as string,
  );
  if (recoveryCodes.length !== 10)
    throw new Error(`no recovery codes: ${done.status} ${done.html.slice(0, 500)}`);
  return { authenticator, recoveryCodes };
}
