// A redis relay that answers as a redis before 7.0 would, for
// t/27_fleet_old_redis.t (README "Cache", the fleet lock): every command
// goes on to the real redis-server behind it, except a SET with both NX
// and GET, which redis 6 and older refuse with "-ERR syntax error". Only
// for clients that wait for each reply before the next command (apr_redis
// and the module's own lock client do): a refused command is answered
// here, in the stream's order only when nothing is outstanding.
// Listens on 127.0.0.1 only.
//
//   OA2F_RELAY_PORT (18711)     the relay
//   OA2F_RELAY_UPSTREAM (18710) the real redis-server
//   OA2F_SERVER_LIFETIME (s), OA2F_PARENT_PID: as for the other servers
//
// Each refusal is logged to stderr as "refused SET … NX … GET".

import net from 'node:net';

import { envPort, selfTerminate } from './common.js';

const NAME = 'redis-relay';
const PORT = envPort('OA2F_RELAY_PORT', 18711);
const UPSTREAM = envPort('OA2F_RELAY_UPSTREAM', 18710);

// One whole command at the start of buf: { end, args } (args as
// lower-case strings), or null while incomplete. Inline commands (no
// leading '*') are one line.
function command(buf) {
  const eol = buf.indexOf('\r\n');
  if (eol < 0) return null;
  if (buf[0] !== 0x2a /* '*' */) return { end: eol + 2, args: [] };
  const n = Number(buf.subarray(1, eol).toString());
  let at = eol + 2;
  const args = [];
  for (let i = 0; i < n; i++) {
    const e = buf.indexOf('\r\n', at);
    if (e < 0) return null;
    const len = Number(buf.subarray(at + 1, e).toString());
    if (buf.length < e + 2 + len + 2) return null;
    args.push(buf.subarray(e + 2, e + 2 + len).toString('latin1').toLowerCase());
    at = e + 2 + len + 2;
  }
  return { end: at, args };
}

const server = net.createServer((client) => {
  const up = net.connect(UPSTREAM, '127.0.0.1');
  let pending = Buffer.alloc(0);
  up.on('data', (d) => client.write(d));
  up.on('error', () => client.destroy());
  up.on('close', () => client.destroy());
  client.on('error', () => up.destroy());
  client.on('close', () => up.destroy());
  client.on('data', (d) => {
    pending = Buffer.concat([pending, d]);
    for (let c = command(pending); c; c = command(pending)) {
      const raw = pending.subarray(0, c.end);
      pending = pending.subarray(c.end);
      if (c.args[0] === 'set' && c.args.includes('nx') && c.args.includes('get')) {
        process.stderr.write(`[${NAME}] refused SET … NX … GET\n`);
        client.write('-ERR syntax error\r\n');
      } else {
        up.write(raw);
      }
    }
  });
});

server.listen(PORT, '127.0.0.1');
selfTerminate(NAME);
