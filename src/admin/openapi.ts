/**
 * The admin API's OpenAPI 3.1 description, served at /admin/api/openapi.json. Every route in
 * api.ts is described here (a test checks both ways).
 */
import { SCHEMAS } from './openapi-schemas.ts';
import { PERSON_ACTIONS } from './service.ts';

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
      '/people/search': {
        post: {
          operationId: 'searchPeople',
          summary:
            'Search accounts by identity number, mobile number or the start of a name (a POST: numbers stay out of URLs and logs)',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Search' } } },
          },
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
              schema: { type: 'string', enum: Object.keys(PERSON_ACTIONS) },
            },
          ],
          responses: { '204': { description: 'Done and audited' }, ...standard },
        },
      },
      '/legal-persons': {
        get: {
          operationId: 'searchLegalPersons',
          summary:
            'Search legal persons and open claims by credit code or name; without q, the open claims awaiting confirmation',
          parameters: [query('q', 'credit code (prefix) or part of the name')],
          responses: {
            ...ok(list('#/components/schemas/LegalPerson'), 'Legal persons within the region'),
            ...standard,
          },
        },
      },
      '/legal-persons/{code}/status': {
        post: {
          operationId: 'changeLegalPersonStatus',
          summary: 'Suspend, deregister or reactivate a legal person',
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
      '/legal-persons/claims/{id}/confirm': {
        post: {
          operationId: 'confirmClaim',
          summary:
            'Confirm a claim to represent an entity after checking the evidence: it becomes active, every other claim on its code ends',
          parameters: [id('id', 'the claim’s id (from the search)')],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/ClaimConfirmation' } },
            },
          },
          responses: {
            ...ok({ $ref: '#/components/schemas/LegalPerson' }, 'The entity, now active'),
            '409': error,
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
          summary:
            'A new secret, returned once, working on every node at once; the old one keeps working until previous_secret_expires_at (CLIENT_SECRET_GRACE_SECONDS, default 24 h)',
          parameters: [id('id', 'the client_id')],
          responses: {
            ...ok(
              {
                type: 'object',
                required: ['client_secret', 'previous_secret_expires_at'],
                properties: {
                  client_secret: { type: 'string' },
                  previous_secret_expires_at: { type: 'integer', description: 'seconds since 1970 (UTC)' },
                },
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
      '/attribute-types': {
        get: {
          operationId: 'listAttributeTypes',
          summary:
            'The catalogue of verified attribute types: code, names, holder, source departments, sensitivity, retention, e-certificate type and the JSON Schema of a value, with the scope a site asks for it by',
          responses: { ...ok({ type: 'object' }, 'Every type'), ...standard },
        },
      },
      '/upstreams': {
        get: {
          operationId: 'listUpstreams',
          summary:
            'The upstream identity providers people may sign in through (as `yitong upstreams sync` stored them): issuer, client id, scopes, claim mapping, the highest identity level accepted, acr map, names, region; never the secret',
          responses: { ...ok({ type: 'object' }, 'Every upstream'), ...standard },
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
      schemas: SCHEMAS,
    },
  };
}
