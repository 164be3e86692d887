// Misbehaving validation endpoints and vendor dialects, for what the real
// provider (provider.js) cannot be made to do. Plain node:http, no deps.
// Listens on 127.0.0.1:${OA2F_STUB_PORT:-18531}, and as a forward proxy
// that forges answers on ${OA2F_STUB_PROXY_PORT:-18535}. The dialect
// wrappers ask the real provider (127.0.0.1:${OA2F_PROVIDER_PORT:-18530})
// as client rs-other, so the tokens they judge are real ones.

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';

import {
  Counter, debug, envPort, logRequests, selfTerminate,
} from './common.js';

const NAME = 'stub';
const PORT = envPort('OA2F_STUB_PORT', 18531);
const PROVIDER_PORT = envPort('OA2F_PROVIDER_PORT', 18530);
const INTROSPECTION = `http://127.0.0.1:${PROVIDER_PORT}/token/introspection`;
const RS_AUTH = `Basic ${Buffer.from('rs-other:rs-other-secret').toString('base64')}`;

const MAX_BODY = 1024 * 1024;
const now = () => Math.floor(Date.now() / 1000);

// ---- small response helpers ------------------------------------------------

function send(res, status, body, type = 'application/json', headers = {}) {
  const data = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(data),
    ...headers,
  });
  res.end(data);
}

const json = (res, status, body, headers) => send(res, status, body, 'application/json', headers);

function activeAnswer(extra = {}) {
  return {
    active: true, exp: now() + 3600, scope: 'read', client_id: 'c1', username: 'stub-user', ...extra,
  };
}

// RFC 6749 §2.3.1: id and secret are form-encoded before "id:secret" is
// base64-encoded. Returns [id, secret], or null when it is not Basic.
function basicCredentials(req) {
  const m = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(req.headers.authorization || '');
  if (!m) return null;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 0) return null;
  const formDecode = (s) => {
    try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return null; }
  };
  return [formDecode(text.slice(0, i)), formDecode(text.slice(i + 1))];
}

function bearerToken(req) {
  const m = /^Bearer +(\S+) *$/i.exec(req.headers.authorization || '');
  return m ? m[1] : null;
}

// Ask the real provider; returns its RFC 7662 answer, or throws.
async function introspect(token) {
  const response = await fetch(INTROSPECTION, {
    method: 'POST',
    headers: {
      Authorization: RS_AUTH,
      Accept: 'application/json',
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }).toString(),
  });
  if (response.status !== 200) throw new Error(`provider introspection answered ${response.status}`);
  return response.json();
}

function isLive(answer) {
  return answer.active === true && (answer.exp === undefined || answer.exp > now());
}

function onlyMethod(req, res, method) {
  if (req.method === method) return true;
  json(res, 405, { error: 'invalid_request', error_description: `use ${method}` }, { Allow: method });
  return false;
}

// ---- PingFederate ----------------------------------------------------------
// docs/providers.md §4, the validate_bearer grant on /as/token.oauth2:
//   POST {pf-base}/as/token.oauth2, form
//   grant_type=urn:pingidentity.com:oauth2:grant_type:validate_bearer&token=…,
//   client auth Basic or client_id/client_secret in the form.
//   Success: 200 {"token_type":"urn:pingidentity.com:oauth2:validated_token",
//   "expires_in":<seconds left>,"client_id":…,"scope":… (may be absent),
//   "access_token":{ attribute contract: "Username","OrgName","group" … }}.
//   Failures: token unknown/expired/revoked → invalid_grant (400); wrong
//   client id/secret → invalid_client 401; missing token → invalid_request 400.

const PING_GRANT = 'urn:pingidentity.com:oauth2:grant_type:validate_bearer';
const PING_CLIENT = ['ping-rs', 'ping-rs-secret'];

async function pingValidateBearer(req, res, body) {
  if (!onlyMethod(req, res, 'POST')) return;
  const noStore = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
  const fail = (status, error, description, extra = {}) => json(
    res, status, { error, error_description: description }, { ...noStore, ...extra },
  );
  const form = new URLSearchParams(body);

  const basic = basicCredentials(req);
  const posted = form.has('client_secret');
  if (basic && posted) {
    fail(400, 'invalid_request', 'client authentication must only use one method');
    return;
  }
  const [id, secret] = basic || [form.get('client_id'), form.get('client_secret')];
  if (id !== PING_CLIENT[0] || secret !== PING_CLIENT[1]) {
    fail(401, 'invalid_client', 'Invalid client or client credentials.',
      basic ? { 'WWW-Authenticate': 'Basic realm="PingFederate"' } : {});
    return;
  }
  if (!form.get('grant_type')) {
    fail(400, 'invalid_request', 'Missing grant_type parameter.');
    return;
  }
  if (form.get('grant_type') !== PING_GRANT) {
    fail(400, 'unsupported_grant_type', `Unsupported grant_type: ${form.get('grant_type')}`);
    return;
  }
  const token = form.get('token');
  if (!token) {
    fail(400, 'invalid_request', 'Missing token parameter.');
    return;
  }

  const answer = await introspect(token);
  if (!isLive(answer)) {
    fail(400, 'invalid_grant', 'Access token is invalid or expired.');
    return;
  }
  json(res, 200, {
    token_type: 'urn:pingidentity.com:oauth2:validated_token',
    expires_in: answer.exp - now(),
    client_id: answer.client_id,
    ...(answer.scope ? { scope: answer.scope } : {}),
    access_token: { Username: answer.username, OrgName: 'Acme', group: answer.groups },
  }, noStore);
}

// ---- ForgeRock / OpenAM -----------------------------------------------------
// docs/providers.md §5, OpenAM's /oauth2/tokeninfo:
//   GET {am-base}/oauth2/tokeninfo, token as query access_token= or as
//   Authorization: Bearer; both at once → 400. No RS authentication.
//   Success: 200, Cache-Control: no-cache, no-store, members access_token,
//   grant_type, auth_level, scope (JSON array), realm, token_type "Bearer",
//   expires_in (seconds left), client_id, plus one top-level key per granted
//   scope (the scope evaluator's value, e.g. a user attribute or "").
//   No/unknown/expired token → 401 {"error":"invalid_token","error_description":
//   "The access token provided is expired, revoked, malformed, or invalid for
//   other reasons."}; token in both header and query → 400 {"error":
//   "invalid_request","error_description":"Access Token cannot be provided in
//   both query and header"}.

async function openamTokeninfo(req, res, url) {
  if (!onlyMethod(req, res, 'GET')) return;
  const fromQuery = url.searchParams.get('access_token');
  const fromHeader = bearerToken(req);
  if (fromQuery && fromHeader) {
    json(res, 400, {
      error: 'invalid_request',
      error_description: 'Access Token cannot be provided in both query and header',
    });
    return;
  }
  const token = fromQuery || fromHeader;
  const answer = token ? await introspect(token) : { active: false };
  if (!isLive(answer)) {
    json(res, 401, {
      error: 'invalid_token',
      error_description: 'The access token provided is expired, revoked, malformed, or invalid for other reasons.',
    }, { 'WWW-Authenticate': 'Bearer realm="/", error="invalid_token"' });
    return;
  }
  const scopes = answer.scope ? answer.scope.split(' ') : [];
  json(res, 200, {
    access_token: token,
    grant_type: 'client_credentials',
    auth_level: 0,
    scope: scopes,
    realm: '/',
    token_type: 'Bearer',
    expires_in: answer.exp - now(),
    client_id: answer.client_id,
    uid: answer.username,
    mail: `${answer.username}@example.com`,
    ...Object.fromEntries(scopes.map((s) => [s, ''])),
  }, { 'Cache-Control': 'no-cache, no-store' });
}

// ---- MuleSoft ---------------------------------------------------------------
// docs/providers.md §6, the Mule OAuth 2.0 Provider's /validate:
//   GET {provider}/validate?access_token=<token>; no RS authentication.
//   Success: 200 {"expires_in":…,"scope":"READ WRITE" (space-separated, ""
//   when none),"client_id":…,"username":…}, Content-Type
//   application/json; charset=UTF-8. Invalid token: some non-2xx (status and
//   body undocumented) — here 401 with an OAuth invalid_token body.
// /mule/validate-auth is the same endpoint behind Basic mule-rs:mule-rs-secret.

const MULE_CLIENT = ['mule-rs', 'mule-rs-secret'];
const MULE_TYPE = 'application/json; charset=UTF-8';

async function muleValidate(req, res, url, needsAuth) {
  if (!onlyMethod(req, res, 'GET')) return;
  if (needsAuth) {
    const basic = basicCredentials(req);
    if (!basic || basic[0] !== MULE_CLIENT[0] || basic[1] !== MULE_CLIENT[1]) {
      send(res, 401, { error: 'invalid_client', error_description: 'Invalid client credentials' },
        MULE_TYPE, { 'WWW-Authenticate': 'Basic realm="mule"' });
      return;
    }
  }
  const token = url.searchParams.get('access_token');
  if (!token) {
    send(res, 400, { error: 'invalid_request', error_description: 'access_token is required' }, MULE_TYPE);
    return;
  }
  const answer = await introspect(token);
  if (!isLive(answer)) {
    send(res, 401, { error: 'invalid_token', error_description: 'The access token is invalid or has expired' }, MULE_TYPE);
    return;
  }
  send(res, 200, {
    expires_in: answer.exp - now(),
    scope: answer.scope || '',
    client_id: answer.client_id,
    username: answer.username,
  }, MULE_TYPE);
}

// ---- the misbehaving routes -------------------------------------------------

const HANG = new Set(); // sockets of /hang, kept open until the client closes

function trickle(req, res) {
  const text = `{"active":true,"scope":"read","client_id":"c1","exp":${now() + 3600},"padding":"`;
  res.writeHead(200, { 'Content-Type': 'application/json' }); // chunked
  let i = 0;
  const next = () => {
    res.write(i < text.length ? text[i] : 'x');
    i += 1;
  };
  next(); // headers and the first byte at once, then one byte a second
  const timer = setInterval(next, 1000);
  res.on('close', () => clearInterval(timer));
}

const BIG = (() => {
  const claims = {};
  for (let i = 0; i < 16 * 1024; i += 1) claims[`claim_${i}`] = 'v'.repeat(110);
  return JSON.stringify({ ...activeAnswer({ exp: 0 }), ...claims });
})();

// ---- hostile answers (issue 6) ---------------------------------------------

// 50 MB of a JSON string, streamed: the module must stop reading at 1 MiB.
function huge(req, res) {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  const chunk = 'x'.repeat(64 * 1024);
  let sent = 0;
  res.write('{"active":true,"pad":"');
  const pump = () => {
    while (sent < 50 * 1024 * 1024) {
      sent += chunk.length;
      if (!res.write(chunk)) { res.once('drain', pump); return; }
    }
    res.end('"}');
  };
  res.on('error', () => {});
  pump();
}

// Headers promise 200 bytes; 40 arrive, then the connection is closed.
function closeMidAnswer(req, res) {
  const body = `{"active":true,"scope":"read","exp":${now() + 3600},`;
  res.socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n${body}`);
  res.socket.destroy();
}

const DEEP = `${'{"a":'.repeat(100000)}1${'}'.repeat(100000)}`;

// ---- metadata documents (README "Resource identity", t/18_discovery.t) ----
// RFC 8414 §3.1 URLs: /.well-known/oauth-authorization-server/md/NAME,
// whose issuer is this stub's origin + /md/NAME (§3.3).
const MD = '/.well-known/oauth-authorization-server/md/';
const STUB_ORIGIN = `http://127.0.0.1:${PORT}`;
const mdIssuer = (name) => `${STUB_ORIGIN}/md/${name}`;
const mdDoc = (name, extra = {}) => ({
  issuer: mdIssuer(name),
  introspection_endpoint: `${STUB_ORIGIN}/claims`,
  ...extra,
});
const iss = (v) => `${STUB_ORIGIN}/claims?iss=${encodeURIComponent(JSON.stringify(v))}`;
const metadataRoutes = {
  // usable: answers without iss (accepted, the issuer only comes from here)
  noiss: (req, res) => json(res, 200, mdDoc('noiss')),
  // usable: answers with the document's issuer, or another one
  rightiss: (req, res) => json(res, 200, mdDoc('rightiss', { introspection_endpoint: iss(mdIssuer('rightiss')) })),
  wrongiss: (req, res) => json(res, 200, mdDoc('wrongiss', { introspection_endpoint: iss('https://evil.example') })),
  slashiss: (req, res) => json(res, 200, mdDoc('slashiss', { introspection_endpoint: iss(`${mdIssuer('slashiss')}/`) })),
  // usable, asked for by parallel first requests only
  burst: (req, res) => json(res, 200, mdDoc('burst')),
  // usable, 200 KiB: more than one shared-cache entry holds
  large: (req, res) => json(res, 200, mdDoc('large', { service_documentation: `${STUB_ORIGIN}/${'x'.repeat(200 * 1024)}` })),
  // usable, kept 2 s only
  maxage: (req, res) => json(res, 200, mdDoc('maxage'), { 'Cache-Control': 'public, max-age=2' }),
  // unusable
  mismatch: (req, res) => json(res, 200, mdDoc('mismatch', { issuer: mdIssuer('other') })),
  slash: (req, res) => json(res, 200, mdDoc('slash', { issuer: `${mdIssuer('slash')}/` })),
  notjson: (req, res) => send(res, 200, '<!DOCTYPE html>\n<html><body>metadata</body></html>\n', 'text/html'),
  array: (req, res) => json(res, 200, [mdDoc('array')]),
  noendpoint: (req, res) => json(res, 200, { issuer: mdIssuer('noendpoint') }),
  redirect: (req, res) => send(res, 302, '', 'text/plain', { Location: `${MD}noiss` }),
  huge: (req, res) => huge(req, res),
  // the provider is down: as unreachable
  503: (req, res) => send(res, 503, 'Service Unavailable\n', 'text/plain'),
};

const routes = {
  '/huge': huge,
  '/deep': (req, res) => send(res, 200, DEEP),
  // invalid UTF-8 bytes and an escaped NUL inside strings
  '/badutf8': (req, res) => {
    const head = Buffer.from(`{"active":true,"exp":${now() + 3600},"scope":"read","client_id":"c1","username":"bad`);
    const tail = Buffer.from('utf8","note":"nul\\u0000here"}');
    const data = Buffer.concat([head, Buffer.from([0xff, 0xfe, 0xc3]), tail]);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': data.length });
    res.end(data);
  },
  // README "What the backend receives": values in several scripts and one
  // that is not UTF-8 (OAuth2FederatedValueEncoding, t/05_enrichment.t)
  '/intl': (req, res) => {
    const head = Buffer.from(JSON.stringify(activeAnswer({
      username: 'intl-user', name: 'Zoë', street: 'Straße', city: '東京', mood: 'hi😀there', plain: 'ascii',
    })).slice(0, -1) + ',"bad":"x');
    const data = Buffer.concat([head, Buffer.from([0xff, 0xfe]), Buffer.from('y"}')]);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': data.length });
    res.end(data);
  },
  // "active" twice: the last one says true
  '/dupkeys': (req, res) => send(res, 200,
    `{"active":false,"scope":"read","exp":${now() + 3600},"active":true}`),
  '/exp-ms': (req, res) => json(res, 200, activeAnswer({ exp: (now() + 3600) * 1000 })),
  '/exp-far': (req, res) => json(res, 200, activeAnswer({ exp: 32503680000 })), // year 3000
  '/exp-null': (req, res) => json(res, 200, activeAnswer({ active: null })),
  '/redirect': (req, res) => send(res, 302, '', 'text/plain', { Location: '/active' }),
  '/closemid': closeMidAnswer,
  // relative-expiry dialect (mule) answers with hostile expires_in
  '/mule-neg': (req, res) => json(res, 200, { expires_in: -5, scope: 'read', client_id: 'c1', username: 'neg' }),
  '/mule-huge': (req, res) => json(res, 200, { expires_in: 1e15, scope: 'read', client_id: 'c1', username: 'huge' }),
  '/active': (req, res) => json(res, 200, activeAnswer()),
  '/garbage': (req, res) => send(res, 200, 'not json {'),
  '/html': (req, res) => send(res, 200,
    '<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><p>Please sign in.</p></body></html>\n',
    'text/html; charset=utf-8'),
  '/500': (req, res) => json(res, 500, { error: 'server_error' }),
  '/503': (req, res) => send(res, 503, 'Service Unavailable\n', 'text/plain'),
  '/hang': (req) => {
    HANG.add(req.socket);
    req.socket.once('close', () => HANG.delete(req.socket));
  },
  '/trickle': trickle,
  '/array': (req, res) => json(res, 200, [1, 2, 3]),
  '/noactive': (req, res) => json(res, 200, { scope: 'read', exp: now() + 3600 }),
  // exp is set at answer time: the object is big, the timestamp must be fresh
  '/big': (req, res) => send(res, 200, BIG.replace('"exp":0', `"exp":${now() + 3600}`)),
  '/401': (req, res) => json(res, 401, { error: 'invalid_client' },
    { 'WWW-Authenticate': 'Basic realm="stub"' }),
  '/403': (req, res) => json(res, 403, { error: 'invalid_client' }),
  '/active-string': (req, res) => json(res, 200, activeAnswer({ active: 'true' })),
  '/active-one': (req, res) => json(res, 200, activeAnswer({ active: 1 })),
  '/inactive': (req, res) => json(res, 200, { active: false }),
  '/noexp': (req, res) => json(res, 200, {
    active: true, scope: 'read', client_id: 'c1', username: 'noexp-user',
  }),
  '/expired': (req, res) => json(res, 200, activeAnswer({ exp: now() - 100, username: 'expired-user' })),
  '/inject': (req, res) => json(res, 200, {
    active: true,
    exp: now() + 3600,
    scope: 'read',
    client_id: 'c1',
    username: 'eve\r\nX-Injected: yes',
    note: 'a\u0000b\u0007c',
    'bad name': 'x',
    'X-Evil\r\nFoo': 'y',
    nested: { a: [1, 2] },
    list: ['x', 'y'],
    num: 42,
    flag: true,
  }),
  '/echo-request': (req, res, url, body) => json(res, 200, {
    active: true,
    exp: now() + 3600,
    scope: 'read',
    client_id: 'c1',
    seen_method: req.method,
    seen_url: req.url,
    seen_body: body,
    seen_authorization: req.headers.authorization ?? null,
    seen_content_type: req.headers['content-type'] ?? null,
    seen_accept: req.headers.accept ?? null,
  }),
  '/slow': (req, res, url) => {
    const ms = Math.max(0, Number(url.searchParams.get('ms')) || 0);
    const timer = setTimeout(() => json(res, 200, activeAnswer()), ms);
    res.on('close', () => clearTimeout(timer));
  },
  // ---- trust boundaries (issue 11, t/14_trust_request.t) ----
  // the token the module asked about: form "token", else the query's
  // access_token, else a Bearer header
  '/echo-token': (req, res, url, body) => json(res, 200, activeAnswer({
    username: 'echo-user',
    echo: new URLSearchParams(body).get('token') || url.searchParams.get('access_token')
      || bearerToken(req),
  })),
  // active, with the token_type / token_use given as ?value=
  // README "Resource identity" (t/16_audience.t): an active answer whose aud
  // and iss are the query's `aud` / `iss` read as JSON (a bare string when
  // it is not JSON); absent parameters leave the member out. `sub` the
  // same (t/21_revoke.t: the real provider's tokens have none).
  '/claims': (req, res, url) => {
    const member = (name) => {
      const v = url.searchParams.get(name);
      if (v === null) return {};
      try { return { [name]: JSON.parse(v) }; } catch { return { [name]: v }; }
    };
    json(res, 200, activeAnswer({ ...member('aud'), ...member('iss'), ...member('sub') }));
  },
  '/token-type': (req, res, url) => json(res, 200, activeAnswer({ token_type: url.searchParams.get('value') })),
  '/token-use': (req, res, url) => json(res, 200, activeAnswer({ token_use: url.searchParams.get('value') })),
  // active, but bound to a DPoP key (RFC 9449 §6.2)
  '/cnf-jkt': (req, res) => json(res, 200, activeAnswer({
    cnf: { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' },
  })),
  // active, bound to the certificate whose thumbprint is ?thumb= (RFC 8705 §3.1)
  '/x5t': (req, res, url) => json(res, 200, activeAnswer({
    token_type: 'Bearer', cnf: { 'x5t#S256': url.searchParams.get('thumb') },
  })),
  // t/13_trust_cache.t: long and short expiries (memcached TTL, < 1 s left),
  // and the endpoint an .htaccess tries to redirect credentials to
  '/exp-40d': (req, res) => json(res, 200, activeAnswer({
    exp: now() + 40 * 86400, client_id: 'trust-40d-client', username: 'trust-40d-user',
  })),
  '/exp-1s': (req, res) => json(res, 200, activeAnswer({ exp: now() + 1, username: 'trust-1s-user' })),
  '/trust-sink': (req, res) => json(res, 200, activeAnswer({
    username: 'sink-user', seen_authorization: req.headers.authorization ?? null,
  })),
  '/ping/as/token.oauth2': (req, res, url, body) => pingValidateBearer(req, res, body),
  '/openam/oauth2/tokeninfo': (req, res, url) => openamTokeninfo(req, res, url),
  '/mule/validate': (req, res, url) => muleValidate(req, res, url, false),
  '/mule/validate-auth': (req, res, url) => muleValidate(req, res, url, true),
};

// ---- server -----------------------------------------------------------------

const counter = new Counter();
let connections = 0;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const server = http.createServer(async (req, res) => {
  logRequests(NAME, req, res);
  const url = new URL(req.url, `http://127.0.0.1:${PORT}`);
  if (url.pathname === '/__stats') {
    json(res, 200, { requests: counter.requests, connections });
    return;
  }
  counter.hit(url.pathname);
  const route = routes[url.pathname]
    || (url.pathname.startsWith(MD) && metadataRoutes[url.pathname.slice(MD.length)]);
  try {
    const body = await readBody(req);
    if (!route) {
      json(res, 404, { error: 'not_found', error_description: `no stub route ${url.pathname}` });
      return;
    }
    await route(req, res, url, body);
  } catch (err) {
    debug(NAME, `${url.pathname}: ${err.message}`);
    if (!res.headersSent) json(res, 502, { error: 'server_error', error_description: err.message });
  }
});
server.on('connection', () => { connections += 1; });
server.requestTimeout = 0; // /hang and /trickle must outlive node's default

// Optional TLS listener (same routes) for certificate checks: the runner
// passes a key and certificate; see t/run-e2e.sh.
function listenTls(prefix, defaultPort) {
  const key = process.env[`${prefix}_KEY`];
  const cert = process.env[`${prefix}_CERT`];
  if (!key || !cert) return;
  const tls = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) },
    (req, res) => server.emit('request', req, res));
  tls.listen(envPort(`${prefix}_PORT`, defaultPort), '127.0.0.1');
}
listenTls('OA2F_STUB_TLS', 18533);   // a certificate for another host name
listenTls('OA2F_STUB_TLS2', 18534);  // a certificate for 127.0.0.1

// An "attacker" forward proxy (t/13_trust_cache.t): every request it is asked
// to forward gets a forged active answer without going anywhere. Counted in
// /__stats as "/__proxy", and per Proxy-Authorization credentials as
// "/__proxy/auth/USER:PASSWORD" (or ".../none").
const PROXY_PORT = envPort('OA2F_STUB_PROXY_PORT', 18535);
const proxy = http.createServer((req, res) => {
  logRequests(`${NAME}-proxy`, req, res);
  const m = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(req.headers['proxy-authorization'] || '');
  const who = m ? Buffer.from(m[1], 'base64').toString('utf8') : 'none';
  counter.hit('/__proxy');
  counter.hit(`/__proxy/auth/${who}`);
  req.resume();
  req.on('end', () => json(res, 200, activeAnswer({
    client_id: 'forged-client', username: 'forged-by-proxy', scope: 'read write admin',
  })));
});
proxy.listen(PROXY_PORT, '127.0.0.1');

server.listen(PORT, '127.0.0.1', () => {
  selfTerminate(NAME);
  process.stderr.write(`[${NAME}] listening on http://127.0.0.1:${PORT}, provider ${INTROSPECTION}\n`);
});
