/**
 * What is measured. Each scenario prepares per-user state (tokens, signed-in cookies) and one
 * step: a request, or a flow of requests. `bare: false` scenarios need Yitong's accounts.
 */

import { basicAuth, type Credentials, clientCredentials, codeFlow, Jar, refresh } from './flows.ts';
import { send, type Target } from './http.ts';

export interface BenchContext {
  target: Target;
  secret: string;
  /** The i-th benchmark citizen (on the bare engine, any login name with the bench password). */
  person(i: number): Credentials;
  /** How many citizens exist to pick from. */
  population: number;
}

export interface Scenario {
  name: string;
  title: string;
  unit: 'requests' | 'flows';
  /** Also measured on the bare engine (the ceiling). */
  bare: boolean;
  users: number;
  /** Keycloak's published per-vCPU figure for the same operation, when there is one. */
  keycloak?: number;
  /** One fixed request: far less driver work per request than a flow (autocannon; paced, bench/paced.ts). */
  fixed?(context: BenchContext): Promise<FixedRequest>;
  /** Per-user state, then the step one user repeats (flows, and requests that change every time). */
  prepare?(context: BenchContext): {
    setup?: (i: number) => Promise<unknown>;
    step: (state: never) => Promise<void>;
  };
}

export interface FixedRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  form?: Record<string, string>;
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'discovery',
    title: 'Discovery document',
    unit: 'requests',
    bare: true,
    users: 32,
    fixed: async () => ({ method: 'GET', path: '/.well-known/openid-configuration' }),
  },
  {
    name: 'jwks',
    title: 'JWKS',
    unit: 'requests',
    bare: true,
    users: 32,
    fixed: async () => ({ method: 'GET', path: '/jwks' }),
  },
  {
    name: 'client-credentials',
    title: 'Client-credentials grant',
    unit: 'requests',
    bare: true,
    users: 32,
    keycloak: 120,
    fixed: async ({ secret }) => ({
      method: 'POST',
      path: '/token',
      headers: basicAuth(secret),
      form: { grant_type: 'client_credentials' },
    }),
  },
  {
    name: 'introspection',
    title: 'Token introspection',
    unit: 'requests',
    bare: true,
    users: 32,
    fixed: async ({ target, secret }) => {
      const request = {
        method: 'POST' as const,
        path: '/token/introspection',
        headers: basicAuth(secret),
        form: { token: await clientCredentials(target, secret) },
      };
      const answer = await send(target, request.path, request);
      if (!answer.body.includes('"active":true'))
        throw new Error(`introspection does not work: ${answer.body}`);
      return request;
    },
  },
  {
    name: 'userinfo',
    title: 'UserInfo',
    unit: 'requests',
    bare: true,
    users: 32,
    fixed: async ({ target, secret, person }) => {
      const { access_token } = await codeFlow(target, new Jar(), secret, {
        scope: 'openid profile',
        who: person(0),
      });
      return { method: 'GET', path: '/me', headers: { authorization: `Bearer ${access_token}` } };
    },
  },
  {
    name: 'userinfo-verified',
    title: 'UserInfo with verified claims (two types, by scope)',
    unit: 'requests',
    bare: false,
    users: 32,
    fixed: async ({ target, secret, person }) => {
      const { access_token } = await codeFlow(target, new Jar(), secret, {
        scope: 'openid profile verified:education verified:social_insurance',
        who: person(0),
        extra: { prompt: 'consent' },
      });
      const request = {
        method: 'GET' as const,
        path: '/me',
        headers: { authorization: `Bearer ${access_token}` },
      };
      const answer = await send(target, request.path, request);
      if ((answer.body.match(/"trust_framework"/g) ?? []).length !== 2)
        throw new Error(`verified claims are not released: ${answer.body}`);
      return request;
    },
  },
  {
    name: 'refresh',
    title: 'Refresh-token grant (rotating)',
    unit: 'requests',
    bare: true,
    users: 32,
    keycloak: 120,
    prepare: ({ target, secret, person }) => ({
      setup: async (i) => {
        const tokens = await codeFlow(target, new Jar(), secret, {
          scope: 'openid offline_access',
          who: person(i),
          extra: { prompt: 'consent' },
        });
        return { token: tokens.refresh_token as string };
      },
      step: async (state: { token: string }) => {
        state.token = await refresh(target, secret, state.token);
      },
    }),
  },
  {
    name: 'sso-hop',
    title: 'SSO hop (authorize → code → token, already signed in)',
    unit: 'flows',
    bare: true,
    users: 32,
    prepare: ({ target, secret, person }) => ({
      setup: async (i) => {
        const jar = new Jar();
        await codeFlow(target, jar, secret, { who: person(i) });
        return jar;
      },
      step: async (jar: Jar) => {
        await codeFlow(target, jar, secret);
      },
    }),
  },
  {
    name: 'password-signin',
    title: 'Password sign-in flow (authorize → form → code → token)',
    unit: 'flows',
    bare: true,
    users: 8,
    keycloak: 15,
    prepare: ({ target, secret, person, population }) => ({
      step: async () => {
        await codeFlow(target, new Jar(), secret, { who: person(Math.floor(Math.random() * population)) });
      },
    }),
  },
];
