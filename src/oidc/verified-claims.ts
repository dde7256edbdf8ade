/**
 * Verified data released to sites as OpenID Connect for Identity Assurance 1.0 `verified_claims`:
 * one element per attribute type (its source department's electronic record) and one for the
 * person's identity level 2 or 3 (an online check against the authority, or the counter's
 * in-person check, `vpip`). A site asks for a type with its scope (`verified:education`, the whole
 * element) or with the `claims` parameter (object form), which IDA's rules then filter: only the
 * claims and verification elements requested, and `value`/`values`/`max_age` must hold, or the
 * element is left out. What reaches the site is also limited to what its manifest allows and the
 * person consented to, item by item; a sensitive type only for a service item and purpose the
 * site's manifest lists (purpose.ts).
 *
 * @example
 *   requestedItems({ scope: 'openid verified:education' }, catalogue); // Set { 'education' }
 *   selectVerified(elements, { verification: { trust_framework: null }, claims: { education: null } });
 */
import { errors } from 'oidc-provider';
import type { AttributeType } from '../attributes/catalogue.ts';

export const TRUST_FRAMEWORK = 'cn_yitong';
const PREFIX = 'verified:';
/** The person's identity level as an element of its own (name, birthdate, gender, verified). */
export const IDENTITY_ITEM = 'identity';
const IDENTITY_CLAIMS = ['name', 'birthdate', 'gender'];

export type Catalogue = ReadonlyMap<string, AttributeType>;

export const scopeOf = (code: string) => `${PREFIX}${code}`;
export const itemOf = (scope: string) => (scope.startsWith(PREFIX) ? scope.slice(PREFIX.length) : undefined);
/** A certificate's file, as a distributed claim pointing at the certificate library. */
export const fileClaimOf = (code: string) => `${code}_file`;

/** Each type's scope and what it releases: its element, and a certificate's file. */
export function verifiedScopes(catalogue: Catalogue): Record<string, string[]> {
  return Object.fromEntries(
    [...catalogue.values()].map((type) => [
      scopeOf(type.code),
      ['verified_claims', ...(type.certificate ? [fileClaimOf(type.code)] : [])],
    ]),
  );
}

export interface Element {
  verification: Record<string, unknown> & { trust_framework: string };
  claims: Record<string, unknown>;
}

interface VerifiedRequest {
  verification: Record<string, unknown>;
  claims: Record<string, unknown>;
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A request parameter's JSON (or an object the engine parsed already); undefined when it does not parse. */
export function parsed(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** What a `claims` request asks for inside `verified_claims`, a claim → rule object per place. */
export function verifiedClaimsAsked(claims: unknown): Array<Record<string, unknown>> {
  const request = parsed(claims);
  if (!isObject(request)) return [];
  return [request.userinfo, request.id_token].flatMap((place) => {
    const asked =
      isObject(place) && isObject(place.verified_claims) ? place.verified_claims.claims : undefined;
    return isObject(asked) ? [asked] : [];
  });
}

/** The `verified_claims` member of one place of a `claims` request, checked; undefined when absent. */
export function verifiedRequestOf(place: unknown): VerifiedRequest | undefined {
  if (!isObject(place) || place.verified_claims === undefined) return undefined;
  const request = place.verified_claims;
  if (Array.isArray(request))
    throw new errors.InvalidRequest('verified_claims: send one object; the array form is not supported here');
  if (!isObject(request)) throw new errors.InvalidRequest('verified_claims must be an object');
  if (!isObject(request.claims) || Object.keys(request.claims).length === 0)
    throw new errors.InvalidRequest('verified_claims.claims must be a non-empty object');
  if (request.verification !== undefined && !isObject(request.verification))
    throw new errors.InvalidRequest('verified_claims.verification must be an object');
  return { verification: (request.verification as Record<string, unknown>) ?? {}, claims: request.claims };
}

/** The items (type codes, and `identity`) a request asks for, by scope or by `claims` parameter. */
export function requestedItems(params: { scope?: unknown; claims?: unknown }, catalogue: Catalogue) {
  const items = new Set<string>();
  for (const scope of String(params.scope ?? '').split(' ')) {
    const code = itemOf(scope);
    if (code && catalogue.has(code)) items.add(code);
  }
  for (const asked of verifiedClaimsAsked(params.claims))
    for (const claim of Object.keys(asked)) {
      if (catalogue.has(claim)) items.add(claim);
      if (IDENTITY_CLAIMS.includes(claim)) items.add(IDENTITY_ITEM);
    }
  return items;
}

export interface Held {
  type_code: string;
  value: unknown;
  verified_at: Date;
  valid_until: Date | null;
  source: string;
}

/** What a source department verified, as an IDA element: an electronic record checked against its data. */
export function attributeElement(held: Held, level: number | undefined): Element {
  const time = held.verified_at.toISOString();
  return {
    verification: {
      trust_framework: TRUST_FRAMEWORK,
      // A person's item carries their identity level; an entity's has none of its own.
      ...(level && { assurance_level: String(level) }),
      time,
      evidence: [
        {
          type: 'electronic_record',
          check_details: [{ check_method: 'data', organization: held.source, time }],
          record: {
            type: held.type_code,
            created_at: time,
            ...(held.valid_until && { date_of_expiry: held.valid_until.toISOString().slice(0, 10) }),
            source: { name: held.source, country_code: 'CHN' },
          },
        },
      ],
    },
    claims: { [held.type_code]: held.value },
  };
}

/** Identity level 2 (the authority's data) or 3 (the counter's in-person check) as an IDA element. */
export function identityElement(person: {
  identityLevel: number;
  name: string;
  birthdate: string;
  gender: string;
}): Element | undefined {
  if (person.identityLevel < 2) return undefined;
  const evidence =
    person.identityLevel >= 3
      ? {
          type: 'document',
          check_details: [{ check_method: 'vpip' }],
          document_details: { type: 'idcard', issuer: { country_code: 'CHN' } },
        }
      : {
          type: 'electronic_record',
          check_details: [{ check_method: 'data' }],
          record: { type: 'population_register' },
        };
  return {
    verification: {
      trust_framework: TRUST_FRAMEWORK,
      assurance_level: String(person.identityLevel),
      evidence: [evidence],
    },
    claims: { name: person.name, birthdate: person.birthdate, gender: person.gender },
  };
}

/** A `value`/`values` rule of a request holds for `actual` (a rule of `null` holds always). */
function holds(rule: unknown, actual: unknown): boolean {
  if (!isObject(rule)) return true;
  if ('value' in rule && rule.value !== actual) return false;
  if (Array.isArray(rule.values) && !rule.values.includes(actual)) return false;
  return true;
}

/** IDA's filter of one element by a request: undefined when it asks for nothing here, or a rule fails. */
function filterElement(element: Element, request: VerifiedRequest, now: number): Element | undefined {
  const claims = Object.fromEntries(
    Object.keys(request.claims)
      .filter((claim) => element.claims[claim] !== undefined)
      .map((claim) => [claim, element.claims[claim]]),
  );
  if (!Object.keys(claims).length) return undefined;
  const verification: Element['verification'] = { trust_framework: element.verification.trust_framework };
  for (const [key, rule] of Object.entries(request.verification)) {
    const actual = element.verification[key];
    if (!holds(rule, actual)) return undefined;
    if (key === 'time' && isObject(rule) && typeof rule.max_age === 'number') {
      if (typeof actual !== 'string' || now - Date.parse(actual) > rule.max_age * 1000) return undefined;
    }
    if (key === 'evidence' && Array.isArray(actual)) {
      const types = (Array.isArray(rule) ? rule : []).map((wanted) =>
        isObject(wanted) ? wanted.type : null,
      );
      const kept = actual.filter((evidence) =>
        types.length ? types.some((type) => holds(type, (evidence as { type: string }).type)) : true,
      );
      if (!kept.length) return undefined;
      verification.evidence = kept;
    } else if (actual !== undefined) verification[key] = actual;
  }
  return { verification, claims };
}

/** The elements a site receives: all of them (by scope), or what its `claims` request asks for. */
export function selectVerified(available: Element[], request: VerifiedRequest | undefined, now = Date.now()) {
  if (!request) return available;
  return available.flatMap((element) => filterElement(element, request, now) ?? []);
}
