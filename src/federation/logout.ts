/**
 * Signing out upstream too: a person who signed in through an upstream is offered, on the page
 * after signing out here, a link to each linked upstream's end-session endpoint (RP-Initiated
 * Logout, with Yitong's client id there).
 */
import type { Locale } from '../messages/index.ts';
import type { Federation } from './linking.ts';
import type { Upstream } from './upstreams.ts';

/** Where a person who signed in through upstreams may sign out of them too, after signing out here. */
export function upstreamLogouts(upstreams: ReadonlyMap<string, Upstream>, federation: Federation) {
  return {
    linked: async (personId: string) => (await federation.linksOf(personId)).map((link) => link.upstream_id),
    async offers(ids: string[], locale: Locale) {
      const offers = await Promise.all(
        ids.map(async (id) => {
          const upstream = upstreams.get(id);
          const endpoint = await upstream
            ?.configuration()
            .then((config) => config.serverMetadata().end_session_endpoint)
            .catch(() => undefined);
          if (!upstream || !endpoint) return [];
          const url = new URL(endpoint);
          url.searchParams.set('client_id', upstream.client_id);
          return [{ name: upstream.name[locale], url: url.href }];
        }),
      );
      return offers.flat();
    },
  };
}

export type UpstreamLogouts = ReturnType<typeof upstreamLogouts>;
