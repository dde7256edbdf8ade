/**
 * Authentication strength (DESIGN.md): `acr` pwd < mfa < phr, and the `amr` methods behind it.
 * The acr is derived from the methods that really succeeded, never from what a site asked for.
 *
 * @example
 *   acrFor(['pwd', 'otp']);                         // 'urn:yitong:acr:mfa'
 *   requiredAcr('urn:yitong:acr:mfa urn:yitong:acr:phr'); // 'urn:yitong:acr:mfa' (the weakest acceptable)
 */
export const ACR = {
  pwd: 'urn:yitong:acr:pwd',
  mfa: 'urn:yitong:acr:mfa',
  phr: 'urn:yitong:acr:phr',
} as const;

export type Acr = (typeof ACR)[keyof typeof ACR];

/** RFC 8176 method names: password, one-time code, hardware- or software-held key. */
export type Method = 'pwd' | 'otp' | 'hwk' | 'swk';

const RANK: Record<string, number> = { [ACR.pwd]: 0, [ACR.mfa]: 1, [ACR.phr]: 2 };

export const rankOf = (acr: string | undefined): number =>
  acr && Object.hasOwn(RANK, acr) ? (RANK[acr] as number) : -1;

/** A passkey alone is phishing-resistant and multi-factor (possession plus PIN or biometrics). */
export function acrFor(methods: readonly string[]): Acr {
  if (methods.includes('hwk') || methods.includes('swk')) return ACR.phr;
  if (methods.includes('pwd') && methods.includes('otp')) return ACR.mfa;
  return ACR.pwd;
}

/** The `amr` claim: the methods, plus `mfa` when more than one factor was used. */
export function amrFor(methods: readonly string[]): string[] {
  const unique = [...new Set(methods)];
  return unique.length > 1 ? [...unique, 'mfa'] : unique;
}

/**
 * What a site's `acr_values` (or its registered `default_acr_values`) demand: any listed value is
 * acceptable, so the weakest known one; undefined when none is ours.
 */
export function requiredAcr(acrValues: string | undefined): Acr | undefined {
  const known = (acrValues ?? '').split(' ').filter((value): value is Acr => Object.hasOwn(RANK, value));
  return known.sort((a, b) => rankOf(a) - rankOf(b))[0];
}

/**
 * Scopes that give administrative power: only for sites the province designates, never on a
 * password alone.
 */
export const ADMIN_SCOPES: readonly string[] = ['admin', 'admin:read'];

/** Whether a space-separated scope list names an admin scope. */
export const listsAdminScope = (scope: unknown) =>
  String(scope ?? '')
    .split(' ')
    .some((s) => ADMIN_SCOPES.includes(s));

const strongest = (...acrs: Array<Acr | undefined>) =>
  acrs.reduce((a, b) => (rankOf(b) > rankOf(a) ? b : a), undefined);

/**
 * What an authorization request demands: the request's `acr_values`, never below the site's
 * registered `default_acr_values` (a floor the request cannot lower), raised to mfa for admin
 * scopes: administrative power is never given on a password alone, whatever the site asks.
 */
export function requiredAcrFor(
  params: { acr_values?: unknown; scope?: unknown },
  registered: readonly string[] = [],
): Acr | undefined {
  const asked = requiredAcr(typeof params.acr_values === 'string' ? params.acr_values : undefined);
  return strongest(
    asked,
    requiredAcr(registered.join(' ')),
    listsAdminScope(params.scope) ? ACR.mfa : undefined,
  );
}

export const satisfies = (have: string | undefined, need: Acr | undefined): boolean =>
  !need || rankOf(have) >= rankOf(need);
