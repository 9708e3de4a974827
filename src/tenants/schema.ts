import { CLOUDS } from './clouds.js';

/**
 * The one schema of a tenant connection (`PUT /api/tenants/{name}`): it validates requests (Fastify, unknown
 * keys rejected), and documents the resource. Secrets are write-only: they appear here, never in a response.
 */
const url = { type: 'string', pattern: '^https://[^\\s]+$', maxLength: 2048 } as const;
/** API bases of a lab or emulator may be plain HTTP; the identity platform never (MSAL refuses it). */
const apiUrl = { type: 'string', pattern: '^https?://[^\\s]+$', maxLength: 2048 } as const;

export const tenantEndpointsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['authorityHost', 'managementApiBase', 'graphBase'],
  properties: {
    authorityHost: url,
    managementApiBase: apiUrl,
    managementResource: apiUrl,
    graphBase: apiUrl,
    graphResource: apiUrl,
    caCertificate: { type: 'string', maxLength: 65536, pattern: '-----BEGIN CERTIFICATE-----' },
  },
} as const;

export const tenantPropertiesSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['tenantId', 'clientId', 'credentials'],
  properties: {
    tenantId: {
      type: 'string',
      pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
      description: 'The Entra tenant GUID.',
    },
    clientId: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: 'The app registration (client) id.',
    },
    cloud: { type: 'string', enum: CLOUDS, default: 'public' },
    endpoints: tenantEndpointsSchema,
    credentials: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      properties: {
        clientSecret: {
          type: 'string',
          minLength: 1,
          maxLength: 1024,
          description: "The secret's value (not its id).",
        },
        certificate: {
          type: 'string',
          maxLength: 65536,
          pattern: 'PRIVATE KEY-----',
          description: 'PEM holding the certificate and its private key.',
        },
      },
    },
  },
} as const;

export const tenantBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['properties'],
  properties: { properties: tenantPropertiesSchema, etag: { type: 'string' } },
} as const;
