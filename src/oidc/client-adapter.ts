/**
 * Serves registered departmental clients to oidc-provider from the `clients` table. The secret
 * is handed over only as its hash; `compareClientSecret` (provider.ts) hashes what a client presents.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { ClientsRepo } from '../clients/repo.ts';

export function createClientAdapter(repo: Pick<ClientsRepo, 'findEnabledClient'>): Adapter {
  const readOnly = async () => {
    throw new Error('clients are managed through the yitong CLI, not through the provider');
  };
  return {
    async find(id) {
      const client = await repo.findEnabledClient(id);
      if (!client) return undefined;
      return {
        ...client.metadata,
        client_id: client.id,
        department: client.department,
        region_code: client.regionCode,
        ...(client.secretHash && { client_secret: client.secretHash }),
      } as AdapterPayload;
    },
    upsert: readOnly,
    consume: readOnly,
    destroy: readOnly,
    revokeByGrantId: readOnly,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
  };
}
