/** The admin API's data shapes (OpenAPI 3.1 / JSON Schema), referenced from its paths in openapi.ts. */
export const SCHEMAS = {
  Error: {
    type: 'object',
    required: ['error', 'error_description'],
    properties: {
      error: { type: 'string' },
      error_description: { type: 'string' },
      request_id: { type: 'string' },
    },
  },
  PersonSummary: {
    type: 'object',
    required: ['id', 'name', 'masked', 'identityLevel', 'status'],
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      masked: { type: 'string', description: 'identity number, first 6 and last 4 visible' },
      identityLevel: { type: 'integer', minimum: 1, maximum: 3 },
      status: { type: 'string', enum: ['active', 'locked', 'deleted'] },
    },
  },
  Person: {
    allOf: [
      { $ref: '#/components/schemas/PersonSummary' },
      {
        type: 'object',
        properties: {
          passkeys: { type: 'integer' },
          totp: { type: 'boolean' },
          signIns: { type: 'array', items: { $ref: '#/components/schemas/AuditRow' } },
        },
      },
    ],
  },
  LegalPerson: {
    type: 'object',
    required: ['creditCode', 'name', 'type', 'status'],
    properties: {
      id: { type: 'string' },
      creditCode: { type: 'string', pattern: '^[0-9A-HJ-NP-RTUW-Y]{18}$' },
      name: { type: 'string' },
      type: { type: 'string', enum: ['enterprise', 'institution', 'social_organisation', 'other'] },
      status: {
        type: 'string',
        enum: ['pending', 'active', 'suspended', 'deregistered'],
        description: 'pending: a claim nobody proved yet (confirm it by its id)',
      },
      claimExpiresAt: { type: ['string', 'null'], format: 'date-time' },
      claimantName: { type: ['string', 'null'] },
      claimantMasked: { type: ['string', 'null'] },
      representativeMasked: { type: 'string' },
    },
  },
  StatusChange: {
    type: 'object',
    required: ['action'],
    additionalProperties: false,
    properties: {
      action: { type: 'string', enum: ['suspend', 'deregister', 'reactivate'] },
    },
  },
  ClaimConfirmation: {
    type: 'object',
    required: ['evidence'],
    additionalProperties: false,
    properties: {
      evidence: {
        type: 'string',
        minLength: 4,
        maxLength: 500,
        description: 'what was checked, e.g. the original business licence and the representative’s card',
      },
    },
  },
  Search: {
    type: 'object',
    required: ['q'],
    additionalProperties: false,
    properties: {
      q: {
        type: 'string',
        maxLength: 100,
        description: 'identity number (whole), 11-digit mobile number, or name prefix',
      },
    },
  },
  Client: {
    type: 'object',
    required: ['client_id', 'department', 'region_code', 'enabled'],
    properties: {
      client_id: { type: 'string' },
      client_name: { type: 'string' },
      department: { type: 'string' },
      region_code: { type: 'string' },
      enabled: { type: 'boolean' },
      redirect_uris: { type: 'array', items: { type: 'string', format: 'uri' } },
      scope: { type: 'string' },
    },
  },
  NewClient: {
    type: 'object',
    description:
      'A client manifest (the README: Departmental clients): its fields are checked by the same rules as a file given to `yitong clients add`.',
    required: ['client_id', 'client_name', 'department', 'region_code'],
    properties: {
      client_id: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{2,63}$' },
      client_name: { type: 'string' },
      department: { type: 'string' },
      region_code: { type: 'string', pattern: '^\\d{6}$' },
      redirect_uris: { type: 'array', items: { type: 'string', format: 'uri' } },
      scope: { type: 'string' },
    },
  },
  ClientChange: {
    type: 'object',
    description:
      'Manifest fields to change, over the stored registration; client_id, department, region_code and client_secret stay as they are.',
    minProperties: 1,
    properties: {
      redirect_uris: { type: 'array', minItems: 1, items: { type: 'string', format: 'uri' } },
      scope: { type: 'string' },
    },
  },
  TokenRequest: {
    type: 'object',
    required: ['department', 'region_code', 'scopes'],
    additionalProperties: false,
    properties: {
      department: { type: 'string', maxLength: 100 },
      region_code: {
        type: 'string',
        pattern: '^\\d{6}$',
        description: 'sites registered with it get this region or one under it',
      },
      scopes: { type: 'string', description: 'space-separated; must include openid' },
      days: { type: 'integer', minimum: 1, maximum: 90, default: 30 },
    },
  },
  AuditRow: {
    type: 'object',
    required: ['seq', 'at', 'actor', 'action'],
    properties: {
      seq: { type: 'string' },
      at: { type: 'string', format: 'date-time' },
      actor: { type: 'string' },
      action: { type: 'string' },
      subject: { type: ['string', 'null'] },
      ip: { type: ['string', 'null'] },
      details: { type: 'object' },
    },
  },
};
