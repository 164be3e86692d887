// An HTTP fault relay in front of a provider, for t/19_breaker.t (README
// "Outages"): every request to /c/NAME/PATH is counted under NAME and,
// as NAME's mode says, relayed to 127.0.0.1:UPSTREAM/PATH or answered
// with a fault. Each NAME is a separate endpoint URL for httpd, so a
// separate circuit. Listens on 127.0.0.1 only.
//
//   OA2F_FAULT_PORT (18601)      the relay
//   OA2F_FAULT_CTL_PORT (18602)  control: GET /?name=N&mode=M[&after=A]
//                                sets N's mode; GET /?refuse=1|0 closes or
//                                reopens the relay's listener; every answer
//                                is {"counts":{N:…},"relayed":{N:…},
//                                "modes":{N:…},"refuse":…}
//   OA2F_FAULT_UPSTREAM (18600)  the provider's port
//   OA2F_SERVER_LIFETIME (s), OA2F_PARENT_PID: as for the other servers
//
// Modes: pass (relay; a provider that is down → the connection is
// dropped), drop (close the connection without an answer), hang (never
// answer), 500, 429 and 503 (JSON error; with after=S a Retry-After of S
// seconds, after=date:S an HTTP-date S seconds ahead).

import http from 'node:http';

import { envPort, selfTerminate } from './common.js';

const NAME = 'faultproxy';
const PORT = envPort('OA2F_FAULT_PORT', 18601);
const CTL = envPort('OA2F_FAULT_CTL_PORT', 18602);
const UPSTREAM = envPort('OA2F_FAULT_UPSTREAM', 18600);
const MODES = new Set(['pass', 'drop', 'hang', '500', '429', '503']);

const counts = {};
const relayed = {};
const modes = {};
const afters = {};
let refusing = false;
let server = null;
const sockets = new Set();

function retryAfter(name) {
  const a = afters[name];
  if (!a) return {};
  if (a.startsWith('date:')) {
    const at = new Date(Date.now() + Number(a.slice(5)) * 1000);
    return { 'Retry-After': at.toUTCString() };
  }
  return { 'Retry-After': a };
}

function relay(req, res, name, path) {
  const up = http.request({
    host: '127.0.0.1', port: UPSTREAM, method: req.method, path, headers: req.headers,
  }, (upRes) => {
    relayed[name] = (relayed[name] || 0) + 1;
    res.writeHead(upRes.statusCode, { ...upRes.headers, connection: 'close' });
    upRes.pipe(res);
  });
  // the provider is down: to httpd it looks as if nobody answered
  up.on('error', () => req.socket.destroy());
  req.pipe(up);
}

function handle(req, res) {
  const m = /^\/c\/([A-Za-z0-9_-]+)(\/.*)$/.exec(req.url);
  if (!m) {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not here\n');
    return;
  }
  const [, name, path] = m;
  counts[name] = (counts[name] || 0) + 1;
  const mode = modes[name] || 'pass';
  // one connection per call: libcurl sends a request again, once, when a
  // kept-alive connection dies before the answer, and each call must be
  // counted once
  if (mode === 'pass') {
    relay(req, res, name, path);
    return;
  }
  req.resume();
  if (mode === 'drop') {
    req.socket.destroy();
  } else if (mode === 'hang') {
    // held until the client gives up
  } else {
    const body = JSON.stringify({ error: 'temporarily_unavailable', error_description: `fault ${mode}` });
    res.writeHead(Number(mode), {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      Connection: 'close',
      ...retryAfter(name),
    });
    res.end(body);
  }
}

function listen() {
  if (server) return;
  server = http.createServer(handle);
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.on('error', (err) => { process.stderr.write(`[${NAME}] ${err}\n`); process.exit(1); });
  server.listen(PORT, '127.0.0.1');
}

function refuse() {
  if (!server) return;
  server.close();
  server = null;
  for (const s of sockets) s.destroy();
}

const ctl = http.createServer((req, res) => {
  const q = new URL(req.url, 'http://x').searchParams;
  let status = 200;
  if (q.has('name')) {
    const name = q.get('name');
    const mode = q.get('mode') || 'pass';
    if (!/^[A-Za-z0-9_-]+$/.test(name) || !MODES.has(mode)) {
      status = 400;
    } else {
      modes[name] = mode;
      afters[name] = q.get('after') || '';
    }
  }
  if (q.has('refuse')) {
    refusing = q.get('refuse') === '1';
    if (refusing) refuse(); else listen();
  }
  const body = JSON.stringify({ counts, relayed, modes, refuse: refusing });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
});

listen();
ctl.listen(CTL, '127.0.0.1', () => {
  selfTerminate(NAME);
  process.stderr.write(`[${NAME}] listening on 127.0.0.1:${PORT} -> 127.0.0.1:${UPSTREAM}, control on :${CTL}\n`);
});
