/**
 * The admin API's OpenAPI 3.1 description, served at /admin/api/openapi.json. Every route in
 * api.ts is described here (a test checks both ways).
 */
const error = { $ref: '#/components/responses/Error' };
const standard = { '400': error, '401': error, '403': error, '404': error };
const id = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});
const query = (name: string, description: string, format?: string) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: { type: 'string', ...(format && { format }) },
});
const ok = (schema: object, description: string) => ({
  '200': { description, content: { 'application/json': { schema } } },
});
const list = (ref: string) => ({
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: { $ref: ref } } },
});

export function openApiDocument(issuer: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Yitong admin API',
      version: '1',
      description:
        'The admin console’s powers for automation. Every call is limited to the caller’s region and audited. Authenticate with an access token from the provider: client credentials for a site whose manifest lists the `admin` (or read-only `admin:read`) scope, acting for its own region_code; or an administrator’s own token with the `admin` scope.',
    },
    servers: [{ url: `${issuer}/admin/api` }],
    security: [{ bearer: [] }, { clientCredentials: ['admin'] }],
    paths: {
      '/people': {
        get: {
          operationId: 'searchPeople',
          summary: 'Search accounts by identity number, mobile number or the start of a name',
          parameters: [
            {
              ...query('q', 'identity number (whole), 11-digit mobile number, or name prefix'),
              required: true,
            },
          ],
          responses: {
            ...ok(list('#/components/schemas/PersonSummary'), 'Accounts within the region'),
            ...standard,
          },
        },
      },
      '/people/{id}': {
        get: {
          operationId: 'getPerson',
          summary: 'One account: masked number, levels, status, sign-in methods, recent sign-ins',
          parameters: [id('id', 'the account’s sub')],
          responses: { ...ok({ $ref: '#/components/schemas/Person' }, 'The account'), ...standard },
        },
      },
      '/people/{id}/{action}': {
        post: {
          operationId: 'changePerson',
          summary:
            'Lock (also signs out everywhere), unlock, sign out everywhere, or send a password-reset link',
          parameters: [
            id('id', 'the account’s sub'),
            {
              name: 'action',
              in: 'path',
              required: true,
              schema: { type: 'string', enum: ['lock', 'unlock', 'sign-out'] },
            },
          ],
          responses: { '204': { description: 'Done and audited' }, ...standard },
        },
      },
      '/legal-persons': {
        get: {
          operationId: 'searchLegalPersons',
          summary: 'Search legal persons by credit code or name',
          parameters: [{ ...query('q', 'credit code (prefix) or part of the name'), required: true }],
          responses: {
            ...ok(list('#/components/schemas/LegalPerson'), 'Legal persons within the region'),
            ...standard,
          },
        },
      },
      '/legal-persons/{code}/status': {
        post: {
          operationId: 'changeLegalPersonStatus',
          summary: 'Confirm, suspend, deregister or reactivate a legal person',
          parameters: [id('code', 'the unified social credit code')],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/StatusChange' } } },
          },
          responses: {
            ...ok({ $ref: '#/components/schemas/LegalPerson' }, 'The legal person after the change'),
            ...standard,
          },
        },
      },
      '/clients': {
        get: {
          operationId: 'listClients',
          summary: 'Departmental sites of the region, by department',
          responses: { ...ok(list('#/components/schemas/Client'), 'Sites within the region'), ...standard },
        },
        post: {
          operationId: 'createClient',
          summary: 'Register a site (the manifest rules apply); the generated secret is returned once',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/NewClient' } } },
          },
          responses: {
            '201': {
              description: 'Registered',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['client_id'],
                    properties: { client_id: { type: 'string' }, client_secret: { type: 'string' } },
                  },
                },
              },
            },
            ...standard,
          },
        },
      },
      '/clients/{id}': {
        get: {
          operationId: 'getClient',
          summary: 'One site',
          parameters: [id('id', 'the client_id')],
          responses: { ...ok({ $ref: '#/components/schemas/Client' }, 'The site'), ...standard },
        },
        patch: {
          operationId: 'changeClient',
          summary: 'Change redirect URIs or the scopes a site may ask for',
          parameters: [id('id', 'the client_id')],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/ClientChange' } } },
          },
          responses: {
            ...ok({ $ref: '#/components/schemas/Client' }, 'The site after the change'),
            ...standard,
          },
        },
      },
      '/clients/{id}/rotate-secret': {
        post: {
          operationId: 'rotateClientSecret',
          summary: 'A new secret, returned once; the old one stops working (running nodes within 10 s)',
          parameters: [id('id', 'the client_id')],
          responses: {
            ...ok(
              {
                type: 'object',
                required: ['client_secret'],
                properties: { client_secret: { type: 'string' } },
              },
              'The new secret',
            ),
            ...standard,
          },
        },
      },
      '/clients/{id}/disable': {
        post: {
          operationId: 'disableClient',
          summary: 'Disable a site',
          parameters: [id('id', 'the client_id')],
          responses: { '204': { description: 'Disabled and audited' }, ...standard },
        },
      },
      '/registration-tokens': {
        post: {
          operationId: 'issueRegistrationToken',
          summary:
            'Issue a department an initial access token for dynamic client registration (RFC 7591), shown once',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/TokenRequest' } } },
          },
          responses: {
            '201': {
              description: 'The token and where to register',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['initial_access_token', 'registration_endpoint'],
                    properties: {
                      initial_access_token: { type: 'string' },
                      registration_endpoint: { type: 'string' },
                    },
                  },
                },
              },
            },
            ...standard,
          },
        },
      },
      '/audit': {
        get: {
          operationId: 'searchAudit',
          summary: 'The audit trail, newest first (at most 1000 rows)',
          parameters: [
            query('person', 'sub of the person or legal person concerned'),
            query('client', 'client id of the site concerned'),
            query('action', 'action, matched from the start (signin, account., …)'),
            query('from', 'first day, YYYY-MM-DD (China time)', 'date'),
            query('to', 'last day, YYYY-MM-DD (China time)', 'date'),
          ],
          responses: { ...ok(list('#/components/schemas/AuditRow'), 'Rows within the region'), ...standard },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An access token issued by this provider' },
        clientCredentials: {
          type: 'oauth2',
          flows: {
            clientCredentials: {
              tokenUrl: `${issuer}/token`,
              scopes: { admin: 'change', 'admin:read': 'read only' },
            },
          },
        },
      },
      responses: {
        Error: {
          description: 'What went wrong and how to fix it',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
      schemas: {
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
            status: { type: 'string', enum: ['pending', 'active', 'suspended', 'deregistered'] },
          },
        },
        StatusChange: {
          type: 'object',
          required: ['action'],
          additionalProperties: false,
          properties: {
            action: { type: 'string', enum: ['confirm', 'suspend', 'deregister', 'reactivate'] },
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
          required: ['client_id', 'client_name', 'department', 'region_code', 'redirect_uris', 'scope'],
          additionalProperties: false,
          properties: {
            client_id: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{2,63}$' },
            client_name: { type: 'string' },
            department: { type: 'string' },
            region_code: { type: 'string', pattern: '^\\d{6}$' },
            redirect_uris: { type: 'array', minItems: 1, items: { type: 'string', format: 'uri' } },
            scope: { type: 'string' },
          },
        },
        ClientChange: {
          type: 'object',
          additionalProperties: false,
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
      },
    },
  };
}
