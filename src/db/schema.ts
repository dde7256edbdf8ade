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
  signed_out_at: Date | null;
  phone_verified_at: Date | null;
  deletion_due_at: Date | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface DeletedAccountsTable {
  person_id: string;
  id_number_hmac: Buffer;
  deleted_at: CreatedAt;
  retain_until: Date;
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
  previous_secret_hash: string | null;
  previous_secret_expires_at: Date | null;
  admin_designated: Generated<boolean>;
  enabled: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  private_enc: Buffer;
  created_at: CreatedAt;
  /** When it starts signing: published in the JWKS from its creation, signing from then (migration 0020). */
  signs_from: ColumnType<Date, Date | undefined, Date>;
  /** A PS256 key: in the JWKS until then ('infinity' while a site needs it; migration 0021). */
  published_until: ColumnType<Date | null, never, Date | null>;
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

export interface PasskeysTable {
  id: string;
  person_id: string;
  name: string;
  public_key: Buffer;
  counter: ColumnType<string, number, number>;
  transports: string;
  backed_up: boolean;
  created_at: CreatedAt;
  last_used_at: Date | null;
}

export interface TotpFactorsTable {
  person_id: string;
  secret_enc: Buffer;
  last_step: ColumnType<string | null, number | null, number | null>;
  created_at: CreatedAt;
}

export interface RecoveryCodesTable {
  person_id: string;
  code_hmac: Buffer;
  used_at: Date | null;
}

export interface StaffTable {
  person_id: string;
  hall: string;
  region_code: string;
  created_at: CreatedAt;
}

export interface EphemeralTable {
  key: string;
  value: ColumnType<unknown, string, string>;
  expires_at: Date;
}

export interface AuditEventsTable {
  seq: Generated<string>;
  at: Date;
  actor: string;
  action: string;
  subject: string | null;
  ip: string | null;
  details: ColumnType<Record<string, unknown>, string, string>;
  prev_hash: Buffer | null;
  hash: Buffer;
}

export interface LegalPersonsTable {
  id: string;
  credit_code: string;
  name: string;
  type: 'enterprise' | 'institution' | 'social_organisation' | 'other';
  status: 'pending' | 'active' | 'suspended' | 'deregistered';
  representative_hmac: Buffer;
  representative_masked: string;
  claim_expires_at: Date | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface MembershipsTable {
  legal_person_id: string;
  person_id: string;
  role: 'representative' | 'administrator' | 'agent';
  client_ids: string[] | null;
  valid_until: ColumnType<string | null, string | null, string | null>;
  granted_by: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface LegalPersonChoicesTable {
  person_id: string;
  client_id: string;
  legal_person_id: string;
  chosen_at: ColumnType<Date, Date | undefined, Date>;
}

export interface LegalPersonUsesTable {
  legal_person_id: string;
  client_id: string;
  person_id: string;
  first_used_at: CreatedAt;
  last_used_at: ColumnType<Date, Date | undefined, Date>;
}

export interface AdminsTable {
  person_id: string;
  role: 'admin' | 'auditor';
  region_code: string;
  created_at: CreatedAt;
}

export interface RegistrationGrantsTable {
  token_id: string;
  department: string;
  region_code: string;
  scopes: string;
  created_by: string;
  created_at: CreatedAt;
}

export interface SiteGrantsTable {
  grant_id: string;
  person_id: string;
  client_id: string;
  sid: string | null;
  session_uid: string | null;
  created_at: CreatedAt;
  last_used_at: ColumnType<Date, Date | undefined, Date>;
}

export interface SignInSessionsTable {
  person_id: string;
  uid: string;
  device: string;
  network: string;
  area: string | null;
  started_at: CreatedAt;
  auth_time: Date;
  last_active_at: ColumnType<Date, Date | undefined, Date>;
  ended_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  revoked_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface SchemaMigrationsTable {
  name: string;
  applied_at: CreatedAt;
}

export interface AttributesTable {
  holder_id: string;
  type_code: string;
  value: ColumnType<unknown, string, string>;
  verified_at: Date;
  valid_until: Date | null;
  evidence: ColumnType<Record<string, unknown>, string, string>;
  source_client_id: string;
  withdrawn_at: Date | null;
  updated_at: UpdatedAt;
}

export interface AttributeCorrectionsTable {
  id: Generated<string>;
  holder_id: string;
  type_code: string;
  source_client_id: string;
  message: string;
  created_at: CreatedAt;
  answer: string | null;
  answered_at: Date | null;
}

export interface UpstreamLinksTable {
  upstream_id: string;
  upstream_sub: string;
  person_id: string;
  created_at: CreatedAt;
  last_used_at: Generated<Date>;
}

export interface UpstreamsTable {
  id: string;
  manifest: ColumnType<Record<string, unknown>, string, string>;
  secret_enc: Buffer;
  updated_at: UpdatedAt;
}

export interface Schema {
  people: PeopleTable;
  upstreams: UpstreamsTable;
  upstream_links: UpstreamLinksTable;
  attributes: AttributesTable;
  attribute_corrections: AttributeCorrectionsTable;
  consents: ConsentsTable;
  clients: ClientsTable;
  signing_keys: SigningKeysTable;
  oidc_artifacts: OidcArtifactsTable;
  rate_counters: RateCountersTable;
  passkeys: PasskeysTable;
  totp_factors: TotpFactorsTable;
  recovery_codes: RecoveryCodesTable;
  staff: StaffTable;
  ephemeral: EphemeralTable;
  audit_events: AuditEventsTable;
  legal_persons: LegalPersonsTable;
  memberships: MembershipsTable;
  legal_person_choices: LegalPersonChoicesTable;
  legal_person_uses: LegalPersonUsesTable;
  admins: AdminsTable;
  registration_grants: RegistrationGrantsTable;
  site_grants: SiteGrantsTable;
  sign_in_sessions: SignInSessionsTable;
  deleted_accounts: DeletedAccountsTable;
  schema_migrations: SchemaMigrationsTable;
}
