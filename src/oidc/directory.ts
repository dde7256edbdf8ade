/**
 * The registered sites as our pages and APIs name them: what a client id stands for, read from
 * the provider's (cached) client store. One place instead of a closure per caller.
 *
 * @example
 *   const site = await directory.find('tax');  // { name: '电子税务局', department: '税务局', regionCode: '440100', scopes }
 *   await directory.name('gone');              // 'gone': an unknown id is shown as itself
 */
import type Provider from 'oidc-provider';

export interface Site {
  name: string;
  department: string;
  /** What the site does with the data (its manifest's `purpose`), or ''. */
  purpose: string;
  /** The attribute types it may publish as a source department (its manifest's `publishes`). */
  publishes: ReadonlySet<string>;
  regionCode: string;
  /** The scopes the site may be granted now (admin scopes only where the province designated it). */
  scopes: Set<string>;
}

export function createSiteDirectory(provider: Provider) {
  async function find(clientId: string): Promise<Site | undefined> {
    const metadata: Record<string, unknown> | undefined = (await provider.Client.find(clientId))?.metadata();
    if (!metadata) return undefined;
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    return {
      name: text(metadata.client_name) || clientId,
      department: text(metadata.department),
      purpose: text(metadata.purpose),
      publishes: new Set(Array.isArray(metadata.publishes) ? metadata.publishes.map(String) : []),
      regionCode: text(metadata.region_code),
      scopes: new Set(text(metadata.scope).split(' ').filter(Boolean)),
    };
  }
  return {
    find,
    /** Name and department for a page; an unknown (removed) site shows its id. */
    async describe(clientId: string): Promise<Pick<Site, 'name' | 'department' | 'purpose'>> {
      const site = await find(clientId);
      return {
        name: site?.name ?? clientId,
        department: site?.department ?? '',
        purpose: site?.purpose ?? '',
      };
    },
    name: async (clientId: string) => (await find(clientId))?.name ?? clientId,
  };
}

export type SiteDirectory = ReturnType<typeof createSiteDirectory>;
