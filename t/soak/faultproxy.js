// TCP relay between httpd and the provider, for the faults provider.js's own
// /__mode switch does not have: a slow provider (every byte of the answer
// held back N ms) and a refused connection (listener closed, open
// connections reset).
//
// Env: SOAK_FAULT_PORT (18557) relays to 127.0.0.1:OA2F_PROVIDER_PORT (18530);
// control on SOAK_FAULT_CTL_PORT (18558):
//   GET /?delay=MS&refuse=0|1   → {"delay":MS,"refuse":false,"connections":N,...}
// SOAK_LIFETIME (s, default 1800), SOAK_PARENT_PID (exit when it is gone).
'use strict';

const net = require('node:net');
const http = require('node:http');

const PORT = Number(process.env.SOAK_FAULT_PORT || 18557);
const CTL = Number(process.env.SOAK_FAULT_CTL_PORT || 18558);
const UPSTREAM = Number(process.env.OA2F_PROVIDER_PORT || 18530);

const state = { delay: 0, refuse: false, connections: 0, accepted: 0 };
const open = new Set();
let server = null;

function relay(client) {
  state.accepted += 1;
  open.add(client);
  client.on('close', () => open.delete(client));
  const upstream = net.connect(UPSTREAM, '127.0.0.1');
  let releaseAt = 0; // answer bytes leave in order, each at least `delay` late
  const later = (fn) => {
    releaseAt = Math.max(releaseAt, Date.now() + state.delay);
    const wait = releaseAt - Date.now();
    if (wait <= 0) fn(); else setTimeout(fn, wait);
  };
  client.on('data', (d) => upstream.write(d));
  client.on('end', () => upstream.end());
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
  upstream.on('data', (d) => later(() => { if (!client.destroyed) client.write(d); }));
  upstream.on('end', () => later(() => client.end()));
  upstream.on('error', () => later(() => client.destroy()));
  upstream.on('close', () => later(() => client.destroy()));
}

function listen() {
  if (server) return;
  server = net.createServer(relay);
  server.on('error', (err) => { process.stderr.write(`[soak-faultproxy] ${err}\n`); process.exit(1); });
  server.listen(PORT, '127.0.0.1');
}

function refuse() {
  if (!server) return;
  server.close();
  server = null;
  for (const s of open) s.resetAndDestroy ? s.resetAndDestroy() : s.destroy();
}

const ctl = http.createServer((req, res) => {
  const q = new URL(req.url, 'http://x').searchParams;
  if (q.has('delay')) {
    const d = Number(q.get('delay'));
    if (Number.isFinite(d) && d >= 0) state.delay = d;
  }
  if (q.has('refuse')) {
    state.refuse = q.get('refuse') === '1';
    if (state.refuse) refuse(); else listen();
  }
  state.connections = open.size;
  const body = JSON.stringify(state);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
});

listen();
ctl.listen(CTL, '127.0.0.1', () => {
  process.stderr.write(`[soak-faultproxy] 127.0.0.1:${PORT} -> 127.0.0.1:${UPSTREAM}, control on :${CTL}\n`);
});

setTimeout(() => process.exit(0), Number(process.env.SOAK_LIFETIME || 1800) * 1000).unref();
const parent = Number(process.env.SOAK_PARENT_PID || 0);
if (parent > 0) {
  setInterval(() => {
    try { process.kill(parent, 0); } catch (err) { if (err.code !== 'EPERM') process.exit(0); }
  }, 2000).unref();
}
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => process.exit(0));
