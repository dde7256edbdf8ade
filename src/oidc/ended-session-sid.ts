/**
 * A refresh token granted with `offline_access` outlives the sign-in session it came from
 * (OpenID Connect Core §11): signing out at a site leaves it, and its site keeps refreshing. The
 * ID token such a refresh returns must not then carry the `sid` of the session that ended: a site
 * matching back-channel logouts or its own sessions by `sid` would tie a new local session to one
 * the person has signed out of. So a refresh's ID token carries `sid` only while the session
 * still holds it for the site; otherwise it is left out (Core §2 and Back-Channel Logout §2.1 make
 * `sid` optional).
 */
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

export function leaveOutEndedSessionSid(provider: Provider): void {
  const prototype = provider.IdToken.prototype;
  const issue = prototype.issue;
  prototype.issue = async function issueWithLiveSid(this: InstanceType<Provider['IdToken']>, options) {
    const sid = this.extra.sid;
    if (options.use === 'idtoken' && typeof sid === 'string' && (await sessionLeft(this.ctx, sid)))
      this.set('sid', undefined);
    return issue.call(this, options);
  };
}

/**
 * Whether a refresh issues from a session that no longer holds `sid` for the site. A code is
 * exchanged within a minute of its sign-in, so its exchange costs no lookup.
 */
async function sessionLeft(ctx: KoaContextWithOIDC | undefined, sid: string): Promise<boolean> {
  const oidc = ctx?.oidc;
  const uid = oidc?.route === 'token' ? oidc.entities.RefreshToken?.sessionUid : undefined;
  if (!uid || !oidc?.client) return false;
  const session = await oidc.provider.Session.findByUid(uid);
  return session?.sidFor(oidc.client.clientId) !== sid;
}
