// Thundering herd: N simultaneous requests carrying one (new) token.
// Opens N TCP connections first, and once every one is connected writes
// the N requests in the same event-loop tick, so that they all reach httpd
// before the first provider answer can land.
//
//   node herd.js PORT[,PORT...] PATH TOKEN [N]
// With several ports (the fleet scenarios: servers A and B sharing one
// cache) connection i goes to port i mod k, so the herd is split evenly.
// prints one JSON line: {"n","codes":{status:count},"ms_total","ms_max"}
'use strict';
const net = require('node:net');

const [portArg, path, token, nArg] = process.argv.slice(2);
const ports = String(portArg).split(',').filter((p) => p !== '').map(Number);
const n = Number(nArg || 50);
const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`
  + `Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`;

const sockets = [];
const codes = {};
let connected = 0;
let done = 0;
let t0 = 0;
let msMax = 0;

const guard = setTimeout(() => {
  process.stdout.write(`${JSON.stringify({ n, codes, error: 'timeout', done })}\n`);
  process.exit(2);
}, 30000);

function finish() {
  clearTimeout(guard);
  const msTotal = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(`${JSON.stringify({
    n, codes, ms_total: Math.round(msTotal * 10) / 10, ms_max: Math.round(msMax * 10) / 10,
  })}\n`);
}

function fire() {
  t0 = process.hrtime.bigint();
  for (const s of sockets) s.write(request);
}

for (let i = 0; i < n; i += 1) {
  const s = net.connect({ port: ports[i % ports.length], host: '127.0.0.1' });
  s.setNoDelay(true);
  let buf = '';
  let counted = false;
  const record = (code) => {
    if (counted) return;
    counted = true;
    codes[code] = (codes[code] || 0) + 1;
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms > msMax) msMax = ms;
    done += 1;
    if (done === n) finish();
  };
  s.on('connect', () => {
    connected += 1;
    if (connected === n) fire();
  });
  s.on('data', (d) => {
    buf += d.toString('latin1');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
    if (m) { record(m[1]); s.destroy(); }
  });
  s.on('error', () => record('error'));
  s.on('close', () => record('closed'));
  sockets.push(s);
}
