// Keys and JWT access tokens for t/25_local_jwt.t (README "Local JWT
// validation"), for what the real provider cannot be made to do: a key
// rotation, hostile tokens, broken key sets, and an RFC 7662 endpoint that
// knows which of its JWTs were revoked. Node's crypto and `jose` only.
// Listens on 127.0.0.1:${OA2F_JWT_STUB_PORT:-18670}.
//
//   GET  /jwks           the current key set (max-age 3600)
//   POST /__rotate       add the key stub-rsa-2 to /jwks
//   GET  /jwks-dup       two keys with the kid "dup"
//   GET  /jwks-big       50 MB, streamed
//   GET  /jwks-redirect  302 to /jwks
//   GET  /jwks-slow      /jwks after 300 ms; /jwks-short: max-age=2
//   GET  /jwks-flaky     max-age=60; 503 while /__flaky?down=1
//   GET  /mint?kind=K    a token (see KINDS)
//   POST /introspect     RFC 7662 for its own tokens; POST /revoke token=
//   GET  /__stats        requests per path; GET /__whoami

import crypto from 'node:crypto';
import http from 'node:http';

import { CompactSign, exportJWK } from 'jose';

import {
  Counter, envPort, logRequests, selfTerminate,
} from './common.js';

const NAME = 'jwt-stub';
const PORT = envPort('OA2F_JWT_STUB_PORT', 18670);
export const ISSUER = `http://127.0.0.1:${PORT}/iss`;
const AUDIENCE = 'urn:oa2f:stub-api';
const now = () => Math.floor(Date.now() / 1000);

const gen = (type, opts) => crypto.generateKeyPairSync(type, opts);
const keys = {
  'stub-rsa-1': gen('rsa', { modulusLength: 2048 }),
  'stub-rsa-2': gen('rsa', { modulusLength: 2048 }),
  'stub-ec-1': gen('ec', { namedCurve: 'P-256' }),
  'stub-ed-1': gen('ed25519'),
  dup: gen('rsa', { modulusLength: 2048 }),
};
const ALG = {
  'stub-rsa-1': 'RS256', 'stub-rsa-2': 'RS256', 'stub-ec-1': 'ES256', 'stub-ed-1': 'EdDSA', dup: 'RS256',
};
let published = ['stub-rsa-1', 'stub-ec-1', 'stub-ed-1'];
const revoked = new Set();
let flakyDown = false;

async function jwkOf(kid) {
  return { ...(await exportJWK(keys[kid].publicKey)), kid, use: 'sig' };
}

const b64 = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');

function claims(extra = {}) {
  return {
    iss: ISSUER,
    sub: 'stub-subject',
    aud: AUDIENCE,
    client_id: 'stub-client',
    scope: 'read write',
    username: 'stub-user',
    iat: now(),
    exp: now() + 600,
    jti: crypto.randomBytes(12).toString('base64url'),
    ...extra,
  };
}

async function sign(kid, payload, header = {}) {
  const alg = header.alg || ALG[kid];
  return new CompactSign(Buffer.from(JSON.stringify(payload)))
    .setProtectedHeader({
      alg, typ: 'at+jwt', kid, ...header,
    })
    .sign(keys[kid].privateKey);
}

// Sign by hand (for headers jose refuses to produce).
function rawSign(kid, header, payload) {
  const input = `${b64(header)}.${b64(payload)}`;
  const alg = header.alg || ALG[kid];
  let sig;
  if (alg === 'EdDSA') sig = crypto.sign(null, Buffer.from(input), keys[kid].privateKey);
  else if (alg === 'ES256') {
    sig = crypto.sign('sha256', Buffer.from(input), { key: keys[kid].privateKey, dsaEncoding: 'ieee-p1363' });
  } else sig = crypto.sign('sha256', Buffer.from(input), keys[kid].privateKey);
  return `${input}.${sig.toString('base64url')}`;
}

const KINDS = {
  rs256: () => sign('stub-rsa-1', claims()),
  es256: () => sign('stub-ec-1', claims()),
  eddsa: () => sign('stub-ed-1', claims()),
  rotated: () => sign('stub-rsa-2', claims()),
  dup: () => sign('dup', claims()),
  unknownkid: () => sign('stub-rsa-1', claims(), { kid: 'no-such-kid' }),
  short: () => sign('stub-rsa-1', claims({ exp: now() + 20 })),
  none: () => `${b64({ alg: 'none', typ: 'at+jwt', kid: 'stub-rsa-1' })}.${b64(claims())}.`,
  // HS256 whose secret is the RSA public key's PEM (the classic confusion)
  hs256: () => {
    const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'stub-rsa-1' })}.${b64(claims())}`;
    const pem = keys['stub-rsa-1'].publicKey.export({ type: 'spki', format: 'pem' });
    return `${input}.${crypto.createHmac('sha256', pem).update(input).digest('base64url')}`;
  },
  // ES256 with a DER signature instead of r||s
  es256der: () => {
    const header = { alg: 'ES256', typ: 'at+jwt', kid: 'stub-ec-1' };
    const input = `${b64(header)}.${b64(claims())}`;
    const sig = crypto.sign('sha256', Buffer.from(input), keys['stub-ec-1'].privateKey);
    return `${input}.${sig.toString('base64url')}`;
  },
  // RS256 signed by the RSA key but naming the EC key
  kidothertype: () => rawSign('stub-rsa-1', { alg: 'RS256', typ: 'at+jwt', kid: 'stub-ec-1' }, claims()),
  crit: () => rawSign('stub-rsa-1', {
    alg: 'RS256', typ: 'at+jwt', kid: 'stub-rsa-1', crit: ['exp'],
  }, claims()),
  b64false: () => rawSign('stub-rsa-1', {
    alg: 'RS256', typ: 'at+jwt', kid: 'stub-rsa-1', b64: false, crit: ['b64'],
  }, claims()),
  jwe: () => [b64({ alg: 'RSA-OAEP', enc: 'A256GCM', kid: 'stub-rsa-1' }), 'AAAA', 'BBBB', 'CCCC', 'DDDD'].join('.'),
  extradots: async () => `${await sign('stub-rsa-1', claims())}.AAAA`,
  // base64 padding at the end (where RFC 6750's b64token allows it)
  padding: async () => `${await sign('stub-rsa-1', claims())}==`,
  expstring: () => sign('stub-rsa-1', claims({ exp: String(now() + 600) })),
  expfloat: () => sign('stub-rsa-1', claims({ exp: now() + 600.5 })),
  expabsent: () => sign('stub-rsa-1', claims({ exp: undefined })),
  expired: () => sign('stub-rsa-1', claims({ iat: now() - 7200, exp: now() - 3600 })),
  nbffuture: () => sign('stub-rsa-1', claims({ nbf: now() + 3600 })),
  typjwt: () => sign('stub-rsa-1', claims(), { typ: 'JWT' }),
  otheriss: () => sign('stub-rsa-1', claims({ iss: 'https://evil.example' })),
  otheraud: () => sign('stub-rsa-1', claims({ aud: 'urn:oa2f:other' })),
  noiss: () => sign('stub-rsa-1', claims({ iss: undefined })),
  badsig: async () => {
    const [h, p, s] = (await sign('stub-rsa-1', claims())).split('.');
    const sig = Buffer.from(s, 'base64url');
    sig[10] ^= 1;
    return `${h}.${p}.${sig.toString('base64url')}`;
  },
  scp: () => sign('stub-rsa-1', claims({ scope: undefined, scp: ['read', 'admin'] })),
};

function send(res, status, body, headers = {}) {
  const data = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

function readForm(req) {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (c) => { if (body.length < 65536) body += c; });
    req.on('end', () => resolve(new URLSearchParams(body)));
  });
}

function payloadOf(token) {
  try { return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()); } catch { return null; }
}

const counter = new Counter();

const server = http.createServer(async (req, res) => {
  logRequests(NAME, req, res);
  const url = new URL(req.url, `http://127.0.0.1:${PORT}`);
  const path = url.pathname;
  if (path === '/__stats') return send(res, 200, { requests: counter.requests });
  if (path === '/__whoami') return send(res, 200, { name: NAME, issuer: ISSUER });
  counter.hit(path);
  try {
    switch (path) {
      case '/jwks':
        return send(res, 200, { keys: await Promise.all(published.map(jwkOf)) },
          { 'Cache-Control': 'public, max-age=3600' });
      // the same set, answered after 300 ms (single-flight) or with a
      // max-age below the module's 60 s floor
      case '/jwks-slow':
        await new Promise((resolve) => { setTimeout(resolve, 300); });
        return send(res, 200, { keys: await Promise.all(published.map(jwkOf)) });
      case '/jwks-short':
        return send(res, 200, { keys: await Promise.all(published.map(jwkOf)) },
          { 'Cache-Control': 'max-age=2' });
      // kept 60 s (the floor), then failing while /__flaky?down=1
      case '/jwks-flaky':
        if (flakyDown) return send(res, 503, { error: 'down' });
        return send(res, 200, { keys: await Promise.all(published.map(jwkOf)) },
          { 'Cache-Control': 'max-age=60' });
      case '/__flaky':
        flakyDown = url.searchParams.get('down') === '1';
        return send(res, 200, { down: flakyDown });
      case '/__rotate':
        if (!published.includes('stub-rsa-2')) published = [...published, 'stub-rsa-2'];
        return send(res, 200, { published });
      case '/jwks-dup': {
        const a = await jwkOf('dup');
        const b = { ...(await jwkOf('stub-rsa-1')), kid: 'dup' };
        return send(res, 200, { keys: [a, b] });
      }
      case '/jwks-big': {
        // 50 MB: the module must stop reading long before the end
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 50 * 1024 * 1024 });
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        let sent = 0;
        const more = () => {
          while (sent < 50) {
            sent += 1;
            if (!res.write(chunk)) { res.once('drain', more); return; }
          }
          res.end();
        };
        res.on('close', () => { sent = 50; });
        return more();
      }
      case '/jwks-redirect':
        return send(res, 302, '', { Location: '/jwks' });
      case '/mint': {
        const kind = url.searchParams.get('kind');
        if (!KINDS[kind]) return send(res, 400, { error: `kind must be one of ${Object.keys(KINDS).join(' ')}` });
        const token = await KINDS[kind]();
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return res.end(token);
      }
      case '/introspect': {
        const token = (await readForm(req)).get('token') || '';
        const p = payloadOf(token);
        if (!p || revoked.has(p.jti) || !(p.exp > now())) return send(res, 200, { active: false });
        return send(res, 200, { active: true, ...p });
      }
      case '/revoke': {
        const p = payloadOf((await readForm(req)).get('token') || '');
        if (p) revoked.add(p.jti);
        return send(res, 200, { revoked: !!p });
      }
      default:
        return send(res, 404, { error: 'not found' });
    }
  } catch (err) {
    return send(res, 500, { error: String(err) });
  }
});

server.listen(PORT, '127.0.0.1', () => {
  selfTerminate(NAME);
  process.stderr.write(`[${NAME}] listening on 127.0.0.1:${PORT}\n`);
});
