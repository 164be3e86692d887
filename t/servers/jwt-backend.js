// The backend of t/26_phantom.t (README "Phantom token"): behind
// mod_proxy, it verifies the JWT the module forwards with the `jose`
// library against the module's own JWKS handler, as a real backend would,
// and answers what it found as JSON:
//   { verified, error, header, payload, headers: [[name, value], ...] }
// The JWT is read from Authorization (Bearer) or the header named by the
// request's ?h= parameter. Listens on 127.0.0.1:${OA2F_PHANTOM_BACKEND_PORT}
// (18671); OA2F_PHANTOM_JWKS_URL is the module's JWKS URL.

import http from 'node:http';

import { createRemoteJWKSet, jwtVerify } from 'jose';

import { envPort, logRequests, selfTerminate } from './common.js';

const NAME = 'jwt-backend';
const PORT = envPort('OA2F_PHANTOM_BACKEND_PORT', 18671);
const JWKS_URL = process.env.OA2F_PHANTOM_JWKS_URL;
if (!JWKS_URL) throw new Error('OA2F_PHANTOM_JWKS_URL is not set');
const jwks = createRemoteJWKSet(new URL(JWKS_URL), { cooldownDuration: 0 });

function send(res, body) {
  const data = JSON.stringify(body);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

const server = http.createServer(async (req, res) => {
  logRequests(NAME, req, res);
  const url = new URL(req.url, `http://127.0.0.1:${PORT}`);
  const headers = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  if (url.pathname === '/__whoami') return send(res, { name: NAME });
  const name = (url.searchParams.get('h') || 'authorization').toLowerCase();
  let jwt = req.headers[name] || '';
  if (name === 'authorization') jwt = jwt.replace(/^Bearer +/i, '');
  try {
    const { payload, protectedHeader } = await jwtVerify(jwt, jwks, {
      typ: 'at+jwt',
      algorithms: ['ES256', 'RS256', 'EdDSA'],
      ...(url.searchParams.get('iss') ? { issuer: url.searchParams.get('iss') } : {}),
    });
    return send(res, {
      verified: true, header: protectedHeader, payload, headers,
    });
  } catch (err) {
    return send(res, { verified: false, error: `${err.code || ''} ${err.message}`, headers });
  }
});

server.listen(PORT, '127.0.0.1', () => {
  selfTerminate(NAME);
  process.stderr.write(`[${NAME}] listening on 127.0.0.1:${PORT}, keys from ${JWKS_URL}\n`);
});
