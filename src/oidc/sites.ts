/**
 * A person's connected sites and sign-in sessions as the provider knows them. Revoking a site
 * ends its grants and every token from them, forgets the remembered consent, and sends the site a
 * back-channel logout for each session it had. Ending a session does the same for every site
 * that session covers, and the browser holding it is signed out.
 */
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import { type AccountsRepo, type Person, signInEnded } from '../accounts/repo.ts';
import type { SessionsService } from '../sessions/service.ts';
import { ACCOUNT_CLIENT_ID } from './grants.ts';
import { createRecentSet } from './recent.ts';

type SiteGrant = {
  grantId: string;
  clientId: string;
  sid: string | null;
  sessionUid?: string | null;
  lastUsedAt?: Date;
};

export function createSites(deps: {
  provider: Provider;
  repo: Pick<
    AccountsRepo,
    'recordSiteGrant' | 'siteGrants' | 'revokeSite' | 'signOutEverywhere' | 'findPersonById'
  >;
  sessions: SessionsService;
  logger: Logger;
}) {
  const { provider, repo, sessions } = deps;

  /**
   * Every token of the grants ends, and each site is told (`logOutSites`); `held`: the grants a
   * site may still have a session for, when the grants span more than the ones ending now.
   */
  async function endGrants(personId: string, grants: SiteGrant[], held?: Set<string>) {
    for (const { grantId } of grants) {
      await (await provider.Grant.find(grantId))?.destroy();
      // Every artifact of the grant (codes, access and refresh tokens) goes with it.
      await provider.RefreshToken.adapter.revokeByGrantId(grantId);
    }
    await logOutSites(personId, grants, held);
  }

  /** The browser holding the session is signed out; someone else's session is left alone. */
  async function destroySession(personId: string, uid: string) {
    const session = await provider.Session.findByUid(uid);
    if (session?.accountId === personId) await session.destroy();
  }

  /**
   * The grants a site may still have a session for: used since the person last signed out
   * everywhere, their session not ended on its own, and the provider holding the session or the
   * grant itself (a session that expired told nobody, and a site holding the grant's refresh
   * token may still be signed in). Grant records stay for weeks after a sign-out or a logout
   * ended them and told the sites: a person who uses a site daily has dozens.
   */
  async function stillHeld(personId: string, grants: SiteGrant[], read?: Person) {
    const person = read ?? (await repo.findPersonById(personId));
    const since = person?.signedOutAt?.getTime() ?? 0;
    const open = grants.filter(
      (grant) =>
        (grant.lastUsedAt?.getTime() ?? 0) > since &&
        !(grant.sessionUid && person?.endedSessions[grant.sessionUid] !== undefined),
    );
    const held = await Promise.all(
      open.map(
        async ({ grantId, sessionUid }) =>
          (sessionUid && (await provider.Session.findByUid(sessionUid))?.accountId === personId) ||
          (await provider.Grant.find(grantId)) !== undefined,
      ),
    );
    return new Set(open.filter((_, index) => held[index]).map((grant) => grant.grantId));
  }

  /** Every site of the grants at once, so one that hangs does not hold up the others. */
  async function logOutSites(personId: string, grants: SiteGrant[], held?: Set<string>) {
    await Promise.all(
      [...Map.groupBy(grants, (grant) => grant.clientId)].map(([clientId, ofSite]) =>
        logOut(clientId, personId, ofSite, held),
      ),
    );
  }

  /**
   * A site's logout token names the session only when the site asks for it
   * (`backchannel_logout_session_required`): otherwise one logout signs the person out of every
   * session there. A site that asks gets one per session. Of the grants `held` only, when given:
   * none held, nothing to tell.
   */
  async function logOut(clientId: string, personId: string, grants: SiteGrant[], held?: Set<string>) {
    const open = held ? grants.filter((grant) => held.has(grant.grantId)) : grants;
    const client = open.length ? await provider.Client.find(clientId) : undefined;
    if (!client?.backchannelLogoutUri) return;
    // The engine's logout token turns the account id into the site's `sub` (pairwise ones too).
    const site = client as unknown as { backchannelLogout(accountId: string, sid?: string): Promise<void> };
    const sids = client.backchannelLogoutSessionRequired
      ? open.map((grant) => grant.sid ?? undefined)
      : [undefined];
    // One session after another, until one is not taken: a site that is down would make each of
    // the rest wait out its timeout too.
    for (const sid of new Set(sids)) {
      const delivered = await site.backchannelLogout(personId, sid).then(
        () => true,
        (error: unknown) => {
          deps.logger.warn({ err: error, client: clientId }, 'back-channel logout not delivered');
          return false;
        },
      );
      if (!delivered) return;
    }
  }

  // What was recorded in the last minute is not written again (a person moving between sites
  // every few seconds): a new session, grant, sid, address or browser is written at once.
  const noted = createRecentSet();

  return {
    /** Wired to 'authorization.success': the session is active, and which grant the site now holds. */
    async record(ctx: KoaContextWithOIDC) {
      const { session, client } = ctx.oidc;
      if (!session?.accountId || !client) return;
      const grantId = session.grantIdFor(client.clientId);
      const key = JSON.stringify([
        session.uid,
        client.clientId,
        grantId,
        session.sidFor(client.clientId),
        ctx.ip,
        ctx.get('user-agent'),
      ]);
      if (noted.has(key)) return;
      await Promise.all([
        sessions.seen(
          session.accountId,
          { uid: session.uid, authTime: session.authTime() ?? 0 },
          { ip: ctx.ip, userAgent: ctx.get('user-agent') },
        ),
        grantId &&
          repo.recordSiteGrant(grantId, session.accountId, client.clientId, {
            sid: session.sidFor(client.clientId),
            sessionUid: session.uid,
          }),
      ]);
      noted.add(key, Date.now() + 60_000);
    },

    /**
     * "Sign out everywhere" (by the person, or an administrator as `actor`): every earlier
     * sign-in and refresh token stops counting, and every site the person is signed in to gets a
     * back-channel logout.
     */
    async signOutEverywhere(personId: string, ip: string, actor = personId) {
      const [grants, before] = await Promise.all([repo.siteGrants(personId), repo.findPersonById(personId)]);
      // Recorded first, so that it holds even if Redis is gone now; the sites told are those of
      // the sign-ins it ends, read with the person as they were before it.
      await repo.signOutEverywhere(personId, {
        actor,
        action: 'account.signed_out',
        subject: personId,
        ip,
      });
      await logOutSites(personId, grants, await stillHeld(personId, grants, before));
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
      await endGrants(personId, grants, await stillHeld(personId, grants));
    },

    /** The account is being deleted: every session and every site's grants end, each site is told. */
    async endEverything(personId: string) {
      const grants = await repo.siteGrants(personId);
      const held = await stillHeld(personId, grants);
      for (const uid of await sessions.uids(personId)) await destroySession(personId, uid);
      await endGrants(personId, grants, held);
    },

    /**
     * The person's open sessions with the sites each covers (our own account page left out).
     * A session the provider no longer has (signed out at a site, expired) is closed on the way.
     */
    async openSessions(person: Pick<Person, 'id' | 'signedOutAt' | 'endedSessions'>) {
      const [rows, grants] = await Promise.all([sessions.listOpen(person.id), repo.siteGrants(person.id)]);
      const alive = await Promise.all(
        rows.map(async (row) => (await provider.Session.findByUid(row.uid))?.accountId === person.id),
      );
      await sessions.close(
        person.id,
        rows.filter((_, index) => !alive[index]).map((row) => row.uid),
      );
      const sitesOf = Map.groupBy(
        grants.filter((grant) => grant.clientId !== ACCOUNT_CLIENT_ID),
        (grant) => grant.sessionUid,
      );
      return rows
        .filter(
          (row, index) =>
            alive[index] && !signInEnded(person, { authTime: row.authTime.getTime() / 1000, uid: row.uid }),
        )
        .map((row) => ({
          ...row,
          clientIds: [...new Set(sitesOf.get(row.uid)?.map((grant) => grant.clientId))],
        }));
    },

    /** Ends the person's sessions begun through an upstream (`amr` fed): it signed them out there. */
    async endUpstreamSessions(personId: string, ip: string) {
      for (const { uid } of await sessions.listOpen(personId)) {
        const session = await provider.Session.findByUid(uid);
        if (session?.accountId === personId && session.amr?.includes('fed'))
          await this.endSession(personId, uid, ip);
      }
    },

    /** Ends one of the person's sessions: 403 (and nothing changes) when it is not theirs. */
    async endSession(personId: string, uid: string, ip: string) {
      // The provider's session goes first, so that no site reached through it meanwhile adds a
      // grant; the grants taken off the record are exactly the ones ended.
      await destroySession(personId, uid);
      const grants = await sessions.end(personId, uid, {
        actor: personId,
        action: 'session.ended',
        subject: personId,
        ip,
      });
      await endGrants(personId, grants);
    },
  };
}

export type Sites = ReturnType<typeof createSites>;
