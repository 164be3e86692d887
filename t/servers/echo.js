// Backend for mod_proxy tests: answers every request with what it received,
// headers as the raw [name, value] list (case and order kept, duplicates too).
// Listens on 127.0.0.1:${OA2F_ECHO_PORT:-18532}. GET /__stats → {"requests":N}.

import http from 'node:http';

import {
  envPort, logRequests, selfTerminate,
} from './common.js';

const NAME = 'echo';
const PORT = envPort('OA2F_ECHO_PORT', 18532);
let requests = 0;

function reply(res, body) {
  const data = JSON.stringify(body);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

const server = http.createServer((req, res) => {
  logRequests(NAME, req, res);
  if (req.method === 'GET' && req.url === '/__stats') {
    reply(res, { requests });
    return;
  }
  requests += 1;
  req.resume(); // the body is not echoed, just drained
  req.on('end', () => {
    const headers = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
    }
    reply(res, { method: req.method, url: req.url, headers });
  });
});

server.listen(PORT, '127.0.0.1', () => {
  selfTerminate(NAME);
  process.stderr.write(`[${NAME}] listening on http://127.0.0.1:${PORT}\n`);
});
