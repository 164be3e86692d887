// An MCP server from the official TypeScript SDK (@modelcontextprotocol/sdk)
// with the Streamable HTTP transport, stateless, on 127.0.0.1, for
// t/17_resource_metadata.t: httpd with the module sits in front of it
// (ProxyPass). Port: OA2F_MCP_PORT (18595). It checks no token itself.
import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { debug, envPort, selfTerminate } from './common.js';

const NAME = 'mcp';
const PORT = envPort('OA2F_MCP_PORT', 18595);

function makeServer() {
  const server = new McpServer({ name: 'oa2f-test-mcp', version: '1.0.0' });
  server.registerTool('hello', { description: 'Says hello' },
    async () => ({ content: [{ type: 'text', text: 'hello' }] }));
  server.registerTool('whoami', { description: 'What httpd passed on' },
    async () => ({ content: [{ type: 'text', text: 'behind httpd' }] }));
  return server;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const httpServer = http.createServer(async (req, res) => {
  debug(NAME, `${req.method} ${req.url}`);
  if (req.url === '/__stats') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{}');
    return;
  }
  if (req.method !== 'POST') {
    // stateless: no standalone SSE stream, no session to delete
    res.writeHead(405, { Allow: 'POST' });
    res.end();
    return;
  }
  try {
    const body = JSON.parse(await readBody(req));
    const server = makeServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => { transport.close(); server.close(); });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  } catch (err) {
    debug(NAME, `error: ${err.stack}`);
    if (!res.headersSent) {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
    }
    res.end('internal error\n');
  }
});

selfTerminate(NAME);
httpServer.listen(PORT, '127.0.0.1', () => {
  console.log(`${NAME}: listening on 127.0.0.1:${PORT}`);
});
