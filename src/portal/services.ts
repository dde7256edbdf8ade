/**
 * The government services menu (一网): every enabled site with a public home page, found by
 * name, department, category or region, grouped by category and region (by name, not code).
 * The home page shows it to everyone; My page marks the sites the person has used.
 *
 * @example
 *   const groups = servicesMenu(await clientsRepo.listPublicSites(), '社保', (key) => tr(ctx, key));
 */
import type { ClientsRepo } from '../clients/repo.ts';
import { regionName } from '../identity/regions.ts';

type Site = Awaited<ReturnType<ClientsRepo['listPublicSites']>>[number];

export function servicesMenu(sites: Site[], query: string, other: string, used = new Set<string>()) {
  const q = query.trim().toLowerCase();
  const named = sites.map((site) => ({
    ...site,
    category: site.category || other,
    region: regionName(site.regionCode),
    used: used.has(site.id),
  }));
  const matching = named.filter((site) =>
    [site.name, site.department, site.category, site.region].some((text) => text.toLowerCase().includes(q)),
  );
  const groups = Map.groupBy(matching, (site) => `${site.category} · ${site.region}`);
  return [...groups]
    .sort(([a], [b]) => a.localeCompare(b, 'zh-CN'))
    .map(([heading, list]) => ({ heading, sites: list }));
}
