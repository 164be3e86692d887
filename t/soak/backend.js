// Counting backend for the soak test (t/soak/run.sh): every request that
// mod_oauth2_federated lets through lands here. It records every bearer token
// it sees, by path, and flags each request that should never have passed:
//   - no token, a token that starts with "fake", or one it does not know;
//   - a token the runner revoked before the run, or more than 1 s after
//     the run revoked it (revoked_at, README "Revocation");
//   - a token past its expiry (exp from introspection, +1 s for rounding);
//   - a token on a location its scopes do not allow (app-read on /write);
//   - an X-AGW-client_id that is not the token's client (cache mix-up).
//
// Env: SOAK_BACKEND_PORT (18556), SOAK_TOKENS (JSON file written by run.sh:
// {"<token>": {"class": "rw", "client": "app-rw", "exp": 1700000000,
//  "revoked": false, "allow": ["/read", "/write"]}, ...}),
// SOAK_LIFETIME (s, default 1800), SOAK_PARENT_PID (exit when it is gone).
// GET /__stats → JSON counters; GET /__reload re-reads SOAK_TOKENS.
// Any other request → 200 "ok".
'use strict';

const http = require('node:http');
const fs = require('node:fs');

const PORT = Number(process.env.SOAK_BACKEND_PORT || 18556);
let META = JSON.parse(fs.readFileSync(process.env.SOAK_TOKENS, 'utf8'));

const stats = {
  requests: 0,
  byPath: {}, // "/read" → n
  byClass: {}, // "rw" → {"/read": n, "/write": n}
  tokens: {}, // every token seen → {class, paths: {}, first, last}
  unvalidated: 0,
  clientMismatch: 0,
  samples: [], // first violations, for the report
};

function violation(kind, cls, path, token, extra) {
  stats.unvalidated += kind === 'client-mismatch' ? 0 : 1;
  if (stats.samples.length < 50) {
    stats.samples.push({
      t: Date.now() / 1000, kind, class: cls, path, token: (token || '').slice(0, 12), ...extra,
    });
  }
}

function bearer(req) {
  const h = req.headers.authorization;
  if (!h) return null;
  const m = /^\s*bearer\s+(.*)$/i.exec(h);
  return m ? m[1].trim() : h;
}

function handle(req, res) {
  const now = Date.now() / 1000;
  const path = '/' + (req.url.split('?')[0].split('/')[1] || '');
  const token = bearer(req);
  const meta = token !== null ? META[token] : undefined;
  let cls;
  if (token === null) cls = 'none';
  else if (meta) cls = meta.class;
  else if (token.startsWith('fake')) cls = 'fake';
  else cls = 'unknown';

  stats.requests += 1;
  stats.byPath[path] = (stats.byPath[path] || 0) + 1;
  const bc = (stats.byClass[cls] ||= {});
  bc[path] = (bc[path] || 0) + 1;

  const key = token === null ? '(none)' : token;
  const rec = (stats.tokens[key] ||= { class: cls, paths: {}, first: now, last: now });
  rec.paths[path] = (rec.paths[path] || 0) + 1;
  rec.last = now;

  if (!meta) {
    violation('unvalidated', cls, path, token);
  } else if (meta.revoked) {
    violation('revoked', cls, path, token);
  } else if (meta.revoked_at && now > meta.revoked_at + 1) {
    // revoked during the run; a request validated just before may
    // still be on its way for a moment
    violation('revoked', cls, path, token, { revoked_at: meta.revoked_at });
  } else if (meta.exp && now > meta.exp + 1) {
    violation('expired', cls, path, token, { exp: meta.exp });
  } else if (!meta.allow.includes(path)) {
    violation('scope', cls, path, token);
  }
  if (meta) {
    const seen = req.headers['x-agw-client_id'];
    if (seen !== meta.client) {
      stats.clientMismatch += 1;
      violation('client-mismatch', cls, path, token, { seen: seen === undefined ? null : seen });
    }
  }

  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 3 });
  res.end('ok\n');
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/__stats') {
    const body = JSON.stringify(stats);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  if (req.method === 'GET' && req.url === '/__reload') {
    META = JSON.parse(fs.readFileSync(process.env.SOAK_TOKENS, 'utf8'));
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(`${Object.keys(META).length} tokens\n`);
    return;
  }
  req.resume();
  req.on('end', () => handle(req, res));
});
server.keepAliveTimeout = 30000;

server.listen(PORT, '127.0.0.1', () => {
  process.stderr.write(`[soak-backend] listening on http://127.0.0.1:${PORT}, ${Object.keys(META).length} known tokens\n`);
});

// Bounded life: SOAK_LIFETIME seconds, or until SOAK_PARENT_PID is gone.
setTimeout(() => process.exit(0), Number(process.env.SOAK_LIFETIME || 1800) * 1000).unref();
const parent = Number(process.env.SOAK_PARENT_PID || 0);
if (parent > 0) {
  setInterval(() => {
    try { process.kill(parent, 0); } catch (err) { if (err.code !== 'EPERM') process.exit(0); }
  }, 2000).unref();
}
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => process.exit(0));
