import type { ColumnType, Generated } from 'kysely';

type CreatedAt = ColumnType<Date, Date | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | undefined, Date>;

export interface PeopleTable {
  id: string;
  id_number_hmac: Buffer;
  id_number_enc: Buffer;
  id_number_masked: string;
  name: string;
  gender: 'male' | 'female';
  birthdate: ColumnType<string, string, string>;
  phone: string | null;
  password_hash: string | null;
  identity_level: Generated<number>;
  status: Generated<'active' | 'locked' | 'deleted'>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ConsentsTable {
  person_id: string;
  client_id: string;
  scopes: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ClientsTable {
  id: string;
  department: string;
  region_code: string;
  metadata: ColumnType<Record<string, unknown>, string, string>;
  secret_hash: string | null;
  enabled: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  private_enc: Buffer;
  created_at: CreatedAt;
}

export interface OidcArtifactsTable {
  model: string;
  id: string;
  payload: ColumnType<Record<string, unknown>, string, string>;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  expires_at: Date | null;
}

export interface RateCountersTable {
  key: string;
  hits: number;
  expires_at: Date;
}

export interface SchemaMigrationsTable {
  name: string;
  applied_at: CreatedAt;
}

export interface Schema {
  people: PeopleTable;
  consents: ConsentsTable;
  clients: ClientsTable;
  signing_keys: SigningKeysTable;
  oidc_artifacts: OidcArtifactsTable;
  rate_counters: RateCountersTable;
  schema_migrations: SchemaMigrationsTable;
}
