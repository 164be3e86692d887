// A real panva/node-oidc-provider for the end-to-end tests: client_credentials
// tokens (opaque), RFC 7662 introspection, RFC 7009 revocation, plus
// /__stats (request and connection counters) and /__mode (introspection
// failure switch). Listens on 127.0.0.1 only.
//
//   OA2F_PROVIDER_PORT (18530)  OA2F_SERVER_LIFETIME (1800 s)
//   OA2F_PARENT_PID (exit when it dies)  OA2F_SERVER_DEBUG=1 (log requests)

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';

import {
  Counter, DEBUG, debug, envPort, logRequests, selfTerminate,
} from './common.js';

const NAME = 'provider';

// oidc-provider prints development notices (Node version, in-memory adapter,
// "you SHOULD change ..."); keep them out of the logs unless debugging.
if (!DEBUG) {
  for (const level of ['info', 'warn']) {
    const original = console[level];
    console[level] = (...args) => {
      if (typeof args[0] === 'string' && args[0].includes('oidc-provider ')) return;
      original(...args);
    };
  }
}
const { default: Provider, errors } = await import('oidc-provider');

const PORT = envPort('OA2F_PROVIDER_PORT', 18530);
const ISSUER = `http://127.0.0.1:${PORT}`;
const RESOURCE = 'urn:oa2f:test-api'; // the default resource server (audience)
// Other resource servers of the same provider (t/16_audience.t): a token
// request names one with RFC 8707's `resource` parameter.
// The two https ones are what OAuth2FederatedResource can name (README
// "Resource identity": an http or https URI).
const RESOURCES = new Set([
  RESOURCE, 'urn:oa2f:other-api', 'https://a.oa2f.test/api', 'https://b.oa2f.test/api',
]);
const RESOURCE_SCOPES = ['read', 'write', 'admin'];
// Resource servers whose tokens are JWTs (RFC 9068), one per signing
// algorithm (t/25_local_jwt.t, README "Local JWT validation"): a token
// request naming one gets a JWT signed with that algorithm, whose aud is
// the resource. All others stay opaque (only those can be introspected).
const JWT_RESOURCES = {
  'urn:oa2f:jwt-rs256': 'RS256',
  'urn:oa2f:jwt-ps256': 'PS256',
  'urn:oa2f:jwt-es256': 'ES256',
  'urn:oa2f:jwt-eddsa': 'EdDSA',
};

const ROUTES = {
  token: '/token',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
};

function client(id, secret, scope, method = 'client_secret_basic') {
  return {
    client_id: id,
    client_secret: secret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: method,
    ...(scope ? { scope } : {}),
  };
}

// oidc-provider only accepts client secrets made of printable ASCII
// (%x20-7E), so the "é" of the brief's rs-basic secret is left out.
const RS_BASIC_SECRET = 's3cr:t+/ %&';

const clients = [
  client('app-read', 'app-read-secret', 'read'),
  client('app-rw', 'app-rw-secret', 'read write'),
  client('app-admin', 'app-admin-secret', 'read write admin'),
  client('app-short', 'app-short-secret', 'read'),
  client('rs-basic', RS_BASIC_SECRET),
  client('rs-post', 'rs-post-secret', undefined, 'client_secret_post'),
  client('rs-other', 'rs-other-secret'),
];

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
// the keys of the JWT resource servers' other algorithms (the RSA one
// signs RS256 and PS256)
const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const edKey = generateKeyPairSync('ed25519').privateKey;

const configuration = {
  clients,
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  // A client's "scope" metadata may only name scopes listed here; listing
  // them also makes oidc-provider refuse (400 invalid_scope) a request for a
  // scope outside the client's own list.
  scopes: ['openid', 'offline_access', ...RESOURCE_SCOPES],
  routes: ROUTES,
  jwks: {
    keys: [
      { ...privateKey.export({ format: 'jwk' }), kid: 'oa2f-test', use: 'sig' },
      { ...ecKey.export({ format: 'jwk' }), kid: 'oa2f-test-ec', use: 'sig' },
      { ...edKey.export({ format: 'jwk' }), kid: 'oa2f-test-ed', use: 'sig' },
    ],
  },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      // every authenticated client may introspect every token
      allowedPolicy: async () => true,
    },
    revocation: {
      enabled: true,
      // same rule as oidc-provider's default: only the owner may revoke
      allowedPolicy: async (ctx, caller, token) => {
        if (token.clientId !== caller.clientId) {
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        }
        return true;
      },
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => RESOURCE,
      useGrantedResource: async () => true,
      // Opaque tokens are the only ones /token/introspection accepts.
      getResourceServerInfo: async (ctx, resource) => {
        // and the loopback MCP server of t/17_resource_metadata.t, whose
        // port Apache::Test picks at run time
        if (JWT_RESOURCES[resource]) {
          return {
            scope: RESOURCE_SCOPES.join(' '),
            audience: resource,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: JWT_RESOURCES[resource] } },
          };
        }
        if (!RESOURCES.has(resource) && !/^http:\/\/127\.0\.0\.1:\d+\/mcp$/.test(resource)) {
          throw new errors.InvalidTarget();
        }
        return { scope: RESOURCE_SCOPES.join(' '), accessTokenFormat: 'opaque' };
      },
    },
  },
  // Members added to every introspection answer of an active token.
  extraTokenClaims: async (ctx, token) => ({
    username: `user-${token.clientId}`,
    groups: ['staff', token.clientId],
    dept: token.clientId === 'app-admin' ? 'ops' : 'eng',
  }),
  ttl: {
    ClientCredentials: (ctx, token, caller) => (caller.clientId === 'app-short' ? 5 : 3600),
  },
};

const provider = new Provider(ISSUER, configuration);

// oidc-provider 9 lets any secret-holding client authenticate with either
// Basic or form post, whatever its token_endpoint_auth_method says (there is
// no separate introspection_endpoint_auth_method). Enforce the registered
// method at the point where the secret is checked, for every endpoint.
const compareSecret = provider.Client.prototype.compareClientSecret;
provider.Client.prototype.compareClientSecret = async function strictMethod(secret) {
  if (!(await compareSecret.call(this, secret))) return false;
  const usedBasic = Provider.ctx?.headers.authorization !== undefined;
  const method = this.clientAuthMethod;
  if ((method === 'client_secret_basic' && !usedBasic)
      || (method === 'client_secret_post' && usedBasic)) {
    throw new errors.InvalidClientAuth(`client must authenticate with ${method}`);
  }
  return true;
};

provider.on('server_error', (ctx, err) => {
  process.stderr.write(`[${NAME}] server_error: ${err.stack || err}\n`);
});

// ---- test hooks: counters and the introspection mode switch -------------

const counter = new Counter();
let connections = 0;
let introspectionMode = 'ok';
const MODES = new Set(['ok', 'fail500', 'hang', 'down']);

provider.use(async (ctx, next) => {
  if (ctx.path === '/__stats') {
    ctx.body = { requests: counter.requests, connections };
    return;
  }
  if (ctx.path === '/__mode') {
    const wanted = ctx.query.introspection;
    if (wanted !== undefined) {
      if (!MODES.has(wanted)) {
        ctx.status = 400;
        ctx.body = { error: `introspection mode must be one of ${[...MODES].join(', ')}` };
        return;
      }
      introspectionMode = wanted;
    }
    ctx.body = { introspection: introspectionMode };
    return;
  }

  counter.hit(ctx.path);

  if (ctx.path === ROUTES.introspection && introspectionMode !== 'ok') {
    ctx.respond = false; // we answer (or not) on the raw socket
    if (introspectionMode === 'fail500') {
      ctx.res.writeHead(500, { 'Content-Type': 'application/json' });
      ctx.res.end('{"error":"server_error","error_description":"introspection mode fail500"}');
    } else if (introspectionMode === 'down') {
      ctx.req.socket.destroy();
    } else { // hang: hold the socket until the client gives up
      await new Promise((resolve) => { ctx.req.socket.once('close', resolve); });
    }
    return;
  }

  await next();
});

const server = http.createServer(provider.callback());
server.on('request', (req, res) => logRequests(NAME, req, res));
server.on('connection', () => { connections += 1; });

server.listen(PORT, '127.0.0.1', () => {
  selfTerminate(NAME);
  // Report the routes as the provider itself resolves them.
  process.stderr.write(`[${NAME}] oidc-provider listening, issuer ${ISSUER}\n${
    ['token', 'introspection', 'revocation', 'discovery']
      .map((name) => `[${NAME}]   ${name.padEnd(14)} ${provider.urlFor(name)}\n`).join('')
  }[${NAME}]   test hooks     ${ISSUER}/__stats ${ISSUER}/__mode\n`);
});
