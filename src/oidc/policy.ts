/**
 * When a person must be asked something before going back to a site (oidc-provider's
 * interaction policy): the standard login and consent prompts, plus
 * - step-up: the site's `acr_values` (or registered `default_acr_values`) demand more than this
 *   session's sign-in achieved, so the login prompt asks for the missing factor;
 * - identity level: the site's `min_identity_level` is above the person's, so they are shown how
 *   to raise it instead of being sent on.
 * - the entity: a site asking for `legal_person` learns which entity the person acts for; they
 *   choose it once per site, and again when the site sends `prompt=select_account`.
 * With `prompt=none` each ends in an error to the site, never in a silent downgrade.
 */
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { AccountsService } from '../accounts/service.ts';
import { requiredAcrFor, satisfies } from '../auth/strength.ts';
import type { LegalPersonsService } from '../legal-persons/service.ts';
import { type Catalogue, requestedItems, scopeOf } from './verified-claims.ts';

const { base, Check, Prompt } = interactionPolicy;

export const STEP_UP = 'acr_step_up';
export const IDENTITY_PROMPT = 'identity_level';

export function minIdentityLevel(ctx: KoaContextWithOIDC): number {
  const level = ctx.oidc.client?.metadata().min_identity_level;
  return typeof level === 'number' ? level : 1;
}

/** The site's registered `default_acr_values`: the floor of what it gets. */
const registeredAcr = (ctx: KoaContextWithOIDC): readonly string[] => ctx.oidc.client?.defaultAcrValues ?? [];

/** The entity prompt: chosen once per site, again on `prompt=select_account` (switching). */
export const ENTITY_PROMPT = 'select_account';

export const wantsLegalPerson = (ctx: KoaContextWithOIDC) =>
  String(ctx.oidc.params?.scope ?? '')
    .split(' ')
    .includes('legal_person');

export function createPolicy(
  accounts: Pick<AccountsService, 'findPerson'>,
  legalPersons: Pick<LegalPersonsService, 'currentAt'>,
  catalogue: Catalogue,
) {
  const policy = base();
  policy
    .get('login')
    ?.checks.add(
      new Check(
        'account_gone',
        'the session’s account is locked or was signed out everywhere',
        'login_required',
        (ctx) =>
          ctx.oidc.session?.accountId && !ctx.oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
      ),
    );
  policy.get('login')?.checks.add(
    new Check(
      STEP_UP,
      'the requested authentication strength is above what this session achieved',
      'login_required',
      (ctx) => {
        const { session, params } = ctx.oidc;
        if (!session?.accountId) return Check.NO_NEED_TO_PROMPT;
        const need = requiredAcrFor(params ?? {}, registeredAcr(ctx));
        return satisfies(session.acr, need) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
      },
      (ctx) => ({ acr: requiredAcrFor(ctx.oidc.params ?? {}, registeredAcr(ctx)) }),
    ),
  );
  policy.add(
    new Prompt(
      { name: IDENTITY_PROMPT, requestable: false },
      (ctx) => ({ min_identity_level: minIdentityLevel(ctx) }),
      new Check(IDENTITY_PROMPT, 'the site requires a higher identity level', async (ctx) => {
        const min = minIdentityLevel(ctx);
        // Sites without a minimum (most) cost no look-up on the single sign-on hop.
        if (min <= 1 || !ctx.oidc.session?.accountId) return Check.NO_NEED_TO_PROMPT;
        const person = await accounts.findPerson(ctx.oidc.session.accountId);
        return (person?.identityLevel ?? 0) >= min ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
      }),
    ),
    1,
  );
  policy.add(
    new Prompt(
      { name: ENTITY_PROMPT, requestable: true },
      new Check('legal_person', 'the site asks which entity the person acts for', async (ctx) => {
        const { session, client } = ctx.oidc;
        if (!wantsLegalPerson(ctx) || !session?.accountId || !client) return Check.NO_NEED_TO_PROMPT;
        const current = await legalPersons.currentAt(session.accountId, client.clientId);
        return current ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
      }),
    ),
    2,
  );
  // A verified item asked for with the `claims` parameter (not by scope) is consented item by
  // item, like one asked for by scope: its scope is then granted, or rejected (not asked again).
  policy.get('consent')?.checks.add(
    new Check('verified_items_missing', 'verified data items not yet consented', (ctx) => {
      const { grant, client, params } = ctx.oidc;
      if (!params?.claims || !grant || !client) return Check.NO_NEED_TO_PROMPT;
      const allowed = new Set(String(client.scope ?? '').split(' '));
      const encountered = new Set(grant.getOIDCScopeEncountered().split(' '));
      const missing = [...requestedItems(params, catalogue)].some(
        (item) => allowed.has(scopeOf(item)) && !encountered.has(scopeOf(item)),
      );
      return missing ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }),
  );
  return policy;
}
