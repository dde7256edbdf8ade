/**
 * Sign-in sessions as the person sees them: each use of a session records it, described by the
 * browser and the place it connected from (never the full address).
 *
 * @example
 *   await sessions.seen(personId, { uid, authTime }, { ip: ctx.ip, userAgent: ctx.get('user-agent') });
 */
import { describeDevice, type Places } from './devices.ts';
import type { SessionsRepo } from './repo.ts';

export function createSessionsService(repo: SessionsRepo, placeOf: Places) {
  return {
    seen(
      personId: string,
      session: { uid: string; authTime: number },
      request: { ip: string; userAgent: string },
    ) {
      return repo.seen({
        personId,
        uid: session.uid,
        authTime: new Date(session.authTime * 1000),
        device: describeDevice(request.userAgent),
        ...placeOf(request.ip),
      });
    },
    listOpen: repo.listOpen,
    uids: repo.uids,
    /** The last ten sign-ins and failed attempts, each with its place (never the full address). */
    async recentSignIns(personId: string) {
      return (await repo.recentSignIns(personId, 10)).map((row) => ({
        at: row.at,
        ok: row.action === 'signin',
        clientId: typeof row.details.client_id === 'string' ? row.details.client_id : undefined,
        method: typeof row.details.method === 'string' ? row.details.method : undefined,
        ...placeOf(row.ip ?? ''),
      }));
    },
    close: repo.close,
    end: repo.end,
    /** Drops the records of sessions over for a day or more (a session lives 12 hours at most). */
    forgetOld: (now: Date) => repo.forget(new Date(now.getTime() - 86_400_000)),
  };
}

export type SessionsService = ReturnType<typeof createSessionsService>;
