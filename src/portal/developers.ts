/**
 * The developer page (`/developers`): what a department needs to connect its site, read from the
 * code that does it (the issuer, the scopes and claims the provider releases, the acr values, the
 * token lifetimes), so the page cannot drift from what the provider really does.
 */
import Router from '@koa/router';
import { DEMO_CITIZEN } from '../accounts/demo-citizen.ts';
import { acrFor, amrFor, type Method } from '../auth/strength.ts';
import { SUPPORTED_SCOPES } from '../clients/manifest.ts';
import type { Config } from '../config.ts';
import type { Locale } from '../messages/index.ts';
import { claimCatalogue } from '../oidc/accounts.ts';
import { JWKS_MAX_AGE_SECONDS, PUBLICATION_DELAY_SECONDS } from '../oidc/keys.ts';
import { LIFETIMES } from '../oidc/lifetimes.ts';
import { type Catalogue, fileClaimOf, scopeOf, verifiedScopes } from '../oidc/verified-claims.ts';
import { type PageState, render, tr } from '../web/render.ts';

/** Ways to sign in, weakest first: the page shows the acr and amr the provider derives from each. */
const SIGN_INS: Record<string, Method[]> = {
  pwd: ['pwd'],
  pwd_otp: ['pwd', 'otp'],
  hwk: ['hwk'],
  swk: ['swk'],
  pwd_hwk: ['pwd', 'hwk'],
};

/** The protocol errors a site meets, roughly in the order it meets them. */
const ERRORS = [
  'access_denied',
  'login_required',
  'consent_required',
  'interaction_required',
  'account_selection_required',
  'invalid_scope',
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'invalid_token',
  'temporarily_unavailable',
  'server_error',
];

export function developerRoutes(config: Pick<Config, 'issuer' | 'production'>, catalogue: Catalogue) {
  const claims = claimCatalogue(SUPPORTED_SCOPES);
  const router = new Router();
  router.get('/developers', (ctx) => {
    const { locale } = ctx.state as PageState;
    // Each verified attribute type: its scope, and the claims it releases (verified-claims.ts).
    const types = [...catalogue.values()].map((type) => ({
      scope: scopeOf(type.code),
      claims: verifiedScopes(catalogue)[scopeOf(type.code)] ?? [],
      consent: `${type.name[locale]}${type.sensitivity === 'sensitive' ? ` · ${tr(ctx, 'developers.verified.sensitive')}` : ''}`,
      file: type.certificate ? fileClaimOf(type.code) : undefined,
      name: type.name[locale],
    }));
    render(ctx, 'developers', {
      title: 'developers.title',
      wide: true, // a reference page of tables
      issuer: config.issuer,
      discoveryUrl: `${config.issuer}/.well-known/openid-configuration`,
      keys: { delay: PUBLICATION_DELAY_SECONDS / 3600, maxAge: JWKS_MAX_AGE_SECONDS / 60 },
      scopes: [
        ...SUPPORTED_SCOPES.map((scope) => ({
          scope,
          claims: claims.filter((row) => row.scope === scope).map((row) => row.claim),
        })),
        ...types,
      ],
      claims,
      verified: types,
      signIns: Object.entries(SIGN_INS).map(([name, methods]) => ({
        name,
        acr: acrFor(methods),
        amr: amrFor(methods).join(' '),
      })),
      lifetimes: Object.entries(LIFETIMES).map(([name, seconds]) => ({
        name,
        seconds,
        text: duration(seconds, locale),
      })),
      errors: ERRORS,
      // Development only: the demo citizen `npm run demo` creates.
      demo: config.production ? undefined : DEMO_CITIZEN,
    });
  });
  return router;
}

const UNITS = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
] as const;

/** `1 hour`, `14 天`: the largest unit that divides the lifetime, in the reader's language. */
function duration(seconds: number, locale: Locale): string {
  const [unit, size] = UNITS.find(([, size]) => seconds % size === 0) ?? ['second', 1];
  return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long' }).format(seconds / size);
}
