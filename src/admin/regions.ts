/**
 * The region rules of administration ("cage power"): an administrator reads what their grants'
 * regions cover, changes only under an `admin` grant, and acts on another administrator only
 * from strictly higher up the region tree.
 */
import { AppError } from '../errors.ts';
import { covers, levelOf, scopeOf } from '../identity/region-code.ts';
import type { Grant } from './repo.ts';

export interface Admin {
  personId: string;
  grants: Grant[];
}

/** The widest prefix the admin's grants give for reading (any role) or changing (`admin`). */
function scopes(admin: Admin, change: boolean): string[] {
  return admin.grants
    .filter((grant) => !change || grant.role === 'admin')
    .map((grant) => scopeOf(grant.regionCode));
}

export function widest(admin: Admin, change: boolean): string {
  const prefixes = scopes(admin, change);
  if (prefixes.length === 0) throw new AppError('admin.forbidden', 403);
  return prefixes.reduce((a, b) => (b.length < a.length ? b : a));
}

/** 403 unless one of the admin's grants covers `region` (for changes: an `admin` grant). */
export function requireRegion(admin: Admin, region: string, change: boolean) {
  if (!scopes(admin, change).some((prefix) => region.startsWith(prefix)))
    throw new AppError('admin.forbidden', 403);
}

/** Whether the admin may change things for the whole province (a province-level `admin` grant). */
export const isProvinceAdmin = (admin: Admin) =>
  admin.grants.some((grant) => grant.role === 'admin' && levelOf(grant.regionCode) === 0);

/**
 * An administrator is acted on only from strictly higher up the region tree: a city admin over a
 * county's, the province over a city's; never a peer, never oneself. A person's region is only
 * their number's prefix, so without this a county admin could lock the province's.
 */
export function requireAbove(admin: Admin, target: Grant[]) {
  const above = (grant: Grant) =>
    admin.grants.some(
      (mine) =>
        mine.role === 'admin' &&
        covers(mine.regionCode, grant.regionCode) &&
        levelOf(mine.regionCode) < levelOf(grant.regionCode),
    );
  if (!target.every(above)) throw new AppError('admin.peer', 403);
}
