// A fast RFC 7662 introspection endpoint over HTTPS for the benchmark.
// Plain node:https, no npm dependencies. Listens on 127.0.0.1 only.
//
//   POST /introspect        form token=...; any token that starts with "tok"
//                           is active (scope "read write", an aud array and
//                           iss https://bench.example; "toknoread...":
//                           scope "write"), every other one inactive. Client
//                           authentication: client_secret_basic (or _post)
//                           with BENCH_CLIENT_ID / BENCH_CLIENT_SECRET;
//                           missing or wrong credentials: 401 invalid_client.
//   GET  /__stats           {"calls","active","inactive","unauthorized",
//                            "connections" (that carried an introspection),
//                            "tcp_connections","open","delay_ms","uptime_s"}
//   POST /__delay?ms=N      fixed delay before every introspection answer
//   GET  /jwks.json         the file BENCH_JWKS_FILE (the JWT scenarios'
//                           issuer keys), here and, when BENCH_JWKS_PORT is
//                           set, over plain HTTP on that port too (only
//                           this path there); counted as jwks_fetches
//
// Environment:
//   BENCH_INTROSPECT_PORT   19100
//   BENCH_TLS_CERT/KEY      PEM files (required)
//   BENCH_DELAY_MS          initial delay, 0
//   BENCH_CLIENT_ID         bench
//   BENCH_CLIENT_SECRET     bench-secret
//   BENCH_LIFETIME          seconds before the process exits by itself (1800)
//   BENCH_PARENT_PID        exit within 2 s once this process is gone
//   BENCH_RESOURCE          the audience answers name (with another one)
//   BENCH_JWKS_FILE         JWKS to serve at /jwks.json (re-read per request)
//   BENCH_JWKS_PORT         plain-HTTP port for /jwks.json (127.0.0.1)

'use strict';
const http = require('node:http');
const https = require('node:https');
const fs = require('node:fs');

const PORT = Number(process.env.BENCH_INTROSPECT_PORT || 19100);
const CLIENT_ID = process.env.BENCH_CLIENT_ID || 'bench';
const CLIENT_SECRET = process.env.BENCH_CLIENT_SECRET || 'bench-secret';
const LIFETIME_S = Number(process.env.BENCH_LIFETIME || 1800);
const PARENT = Number(process.env.BENCH_PARENT_PID || 0);
const RESOURCE = process.env.BENCH_RESOURCE || 'https://bench.example/api';

let delayMs = Number(process.env.BENCH_DELAY_MS || 0);
// connections: TCP connections that carried at least one introspection
// call (the provider connections the modules opened); tcp_connections: all,
// including the harness's own /__stats and /__delay requests.
const stats = {
  calls: 0, active: 0, inactive: 0, unauthorized: 0, connections: 0, tcp_connections: 0, open: 0,
  jwks_fetches: 0,
};
const JWKS_FILE = process.env.BENCH_JWKS_FILE || '';
const JWKS_PORT = Number(process.env.BENCH_JWKS_PORT || 0);

// The issuer's keys for the JWT scenarios: a static document, as an
// authorization server publishes it (kept by its clients for an hour).
function serveJwks(res) {
  stats.jwks_fetches += 1;
  let data;
  try {
    data = fs.readFileSync(JWKS_FILE);
  } catch {
    send(res, 404, { error: 'no_jwks' });
    return;
  }
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Content-Length': data.length,
    'Cache-Control': 'public, max-age=3600',
  });
  res.end(data);
}
const started = Date.now();

// Accepted Authorization header values (RFC 6749 §2.3.1: form-encoded
// before base64; the bench credentials need no encoding either way).
const formEnc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
const GOOD_BASIC = new Set([
  `Basic ${Buffer.from(`${formEnc(CLIENT_ID)}:${formEnc(CLIENT_SECRET)}`).toString('base64')}`,
  `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
]);

function formValue(body, name) {
  // small, allocation-light lookup of one form field
  const key = `${name}=`;
  let i = 0;
  while (i <= body.length) {
    const amp = body.indexOf('&', i);
    const end = amp < 0 ? body.length : amp;
    if (body.startsWith(key, i)) {
      const raw = body.slice(i + key.length, end);
      try { return decodeURIComponent(raw.replace(/\+/g, ' ')); } catch { return null; }
    }
    if (amp < 0) break;
    i = amp + 1;
  }
  return null;
}

function send(res, status, obj, extra) {
  const data = JSON.stringify(obj);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(data),
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(data);
}

function introspect(req, res, body) {
  stats.calls += 1;
  if (!req.socket.benchCounted) {
    req.socket.benchCounted = true;
    stats.connections += 1;
  }
  const auth = req.headers.authorization;
  let ok = false;
  if (auth) {
    ok = GOOD_BASIC.has(auth.trim());
  } else {
    ok = formValue(body, 'client_id') === CLIENT_ID
      && formValue(body, 'client_secret') === CLIENT_SECRET;
  }
  if (!ok) {
    stats.unauthorized += 1;
    send(res, 401, { error: 'invalid_client' }, { 'WWW-Authenticate': 'Basic realm="bench"' });
    return;
  }
  const token = formValue(body, 'token') || '';
  let answer;
  if (token.startsWith('tok')) {
    stats.active += 1;
    answer = {
      active: true,
      // "toknoread..." tokens lack the scope the scope-variant locations
      // require (used by the validity check before measuring)
      scope: token.startsWith('toknoread') ? 'write' : 'read write',
      client_id: 'bench',
      username: 'bench-user',
      sub: 'bench-user',
      // what the module's Resource and Issuer checks look at (bench.py
      // BENCH_RESOURCE); the matching audience second, as a gateway in
      // front of several APIs would see it
      aud: token.startsWith('tokotheraud') ? 'https://bench.example/other'
        : ['https://bench.example/other', RESOURCE],
      iss: 'https://bench.example',
      exp: Math.floor(Date.now() / 1000) + 3600,
    };
  } else {
    stats.inactive += 1;
    answer = { active: false };
  }
  if (delayMs > 0) {
    setTimeout(() => send(res, 200, answer), delayMs);
  } else {
    send(res, 200, answer);
  }
}

const server = https.createServer({
  key: fs.readFileSync(process.env.BENCH_TLS_KEY),
  cert: fs.readFileSync(process.env.BENCH_TLS_CERT),
}, (req, res) => {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  if (path === '/__stats') {
    send(res, 200, { ...stats, delay_ms: delayMs, uptime_s: Math.round((Date.now() - started) / 1000) });
    req.resume();
    return;
  }
  if (path === '/__delay') {
    const m = /(?:^|&)ms=(\d+)/.exec(q < 0 ? '' : req.url.slice(q + 1));
    if (m) delayMs = Math.min(Number(m[1]), 60000);
    send(res, 200, { delay_ms: delayMs });
    req.resume();
    return;
  }
  if (path === '/jwks.json' && req.method === 'GET') {
    serveJwks(res);
    req.resume();
    return;
  }
  if (path !== '/introspect' || req.method !== 'POST') {
    send(res, 404, { error: 'not_found' });
    req.resume();
    return;
  }
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= 65536) chunks.push(c);
  });
  req.on('end', () => introspect(req, res, Buffer.concat(chunks).toString('latin1')));
});

server.keepAliveTimeout = 120000;   // let clients keep their connections
server.headersTimeout = 125000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;
server.on('connection', (sock) => {
  stats.tcp_connections += 1;
  stats.open += 1;
  sock.setNoDelay(true);
  sock.on('close', () => { stats.open -= 1; });
});
server.on('tlsClientError', () => {});

server.listen(PORT, '127.0.0.1', () => {
  process.stdout.write(`introspect: https://127.0.0.1:${PORT}/introspect (delay ${delayMs} ms, pid ${process.pid})\n`);
});

if (JWKS_PORT > 0) {
  const plain = http.createServer((req, res) => {
    req.resume();
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    if (path === '/jwks.json' && req.method === 'GET') serveJwks(res);
    else send(res, 404, { error: 'not_found' });
  });
  plain.keepAliveTimeout = 120000;
  plain.listen(JWKS_PORT, '127.0.0.1');
}

setTimeout(() => process.exit(0), LIFETIME_S * 1000).unref();
if (PARENT > 0) {
  setInterval(() => {
    try { process.kill(PARENT, 0); } catch { process.exit(0); }
  }, 2000).unref();
}
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
