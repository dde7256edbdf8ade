/**
 * A person's connected sites as the provider knows them: which grants each site holds, and
 * revoking one — the grant and every token from it end, the remembered consent goes, and the site
 * gets a back-channel logout for each session it had, so it signs the person out too.
 */
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { AccountsRepo } from '../accounts/repo.ts';

export function createSites(deps: {
  provider: Provider;
  repo: Pick<AccountsRepo, 'recordSiteGrant' | 'siteGrants' | 'revokeSite' | 'signOutEverywhere'>;
  /** The `sub` the site knows the person by (pairwise sites have their own). */
  subFor(
    client: { clientId: string; subjectType?: string; sectorIdentifier?: string },
    accountId: string,
  ): string;
  logger: Logger;
}) {
  const { provider, repo } = deps;

  /** One back-channel logout per session id the site had (none when it has no back-channel URI). */
  async function logOut(clientId: string, personId: string, sids: Array<string | undefined>) {
    const client = await provider.Client.find(clientId);
    if (!client?.backchannelLogoutUri) return;
    const sub = deps.subFor(client, personId);
    const site = client as unknown as { backchannelLogout(sub: string, sid?: string): Promise<void> };
    for (const sid of new Set(sids))
      await site
        .backchannelLogout(sub, sid)
        .catch((error: unknown) =>
          deps.logger.warn({ err: error, client: clientId }, 'back-channel logout not delivered'),
        );
  }

  return {
    /** Wired to 'authorization.success': which grant and session id the site now holds. */
    async record(ctx: KoaContextWithOIDC) {
      const { session, client } = ctx.oidc;
      if (!session?.accountId || !client) return;
      const grantId = session.grantIdFor(client.clientId);
      if (grantId)
        await repo.recordSiteGrant(
          grantId,
          session.accountId,
          client.clientId,
          session.sidFor(client.clientId),
        );
    },

    /**
     * "Sign out everywhere": every earlier sign-in and refresh token stops counting, and every
     * site the person is signed in to gets a back-channel logout.
     */
    async signOutEverywhere(personId: string, ip: string) {
      const grants = await repo.siteGrants(personId);
      await repo.signOutEverywhere(personId, {
        actor: personId,
        action: 'account.signed_out',
        subject: personId,
        ip,
      });
      for (const [clientId, sids] of Map.groupBy(grants, (grant) => grant.clientId))
        await logOut(
          clientId,
          personId,
          sids.map((grant) => grant.sid ?? undefined),
        );
    },

    async revoke(personId: string, clientId: string, ip: string) {
      const grants = await repo.siteGrants(personId, clientId);
      await repo.revokeSite(personId, clientId, {
        actor: personId,
        action: 'consent.revoked',
        subject: personId,
        ip,
        details: { client_id: clientId },
      });
      for (const { grantId } of grants) {
        const grant = await provider.Grant.find(grantId);
        await grant?.destroy();
        // Every artifact of the grant (codes, access and refresh tokens) goes with it.
        await provider.RefreshToken.adapter.revokeByGrantId(grantId);
      }
      await logOut(
        clientId,
        personId,
        grants.map((grant) => grant.sid ?? undefined),
      );
    },
  };
}

export type Sites = ReturnType<typeof createSites>;
