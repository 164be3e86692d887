// The MCP client side of t/17_resource_metadata.t, with the official SDK:
//   node mcp-client.js URL [TOKEN]
// (a) an unauthenticated request to URL, then the SDK's own RFC 9728
//     discovery from the 401 challenge (extractWWWAuthenticateParams,
//     discoverOAuthProtectedResourceMetadata);
// (b) with TOKEN, an SDK client over the Streamable HTTP transport, the
//     token in the transport's request headers: connect, list the tools.
// Prints one JSON object; exits 0 unless something threw unexpectedly.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  extractWWWAuthenticateParams,
  discoverOAuthProtectedResourceMetadata,
} from '@modelcontextprotocol/sdk/client/auth.js';

const [url, token, otherToken] = process.argv.slice(2);
const out = {};
const timer = setTimeout(() => { console.log(JSON.stringify({ ...out, timeout: true })); process.exit(3); }, 20000);

async function listTools(bearer) {
  const headers = bearer ? { Authorization: `Bearer ${bearer}` } : {};
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name: 'oa2f-test-client', version: '1.0.0' });
  try {
    await client.connect(transport);
    const tools = await client.listTools();
    return { tools: tools.tools.map((t) => t.name) };
  } catch (err) {
    return { error: String(err && err.message ? err.message : err), code: err && err.code };
  } finally {
    await client.close().catch(() => {});
  }
}

const init = {
  jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '0' } },
};
const res = await fetch(url, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
  body: JSON.stringify(init),
});
await res.body?.cancel();
out.status = res.status;
const params = extractWWWAuthenticateParams(res);
out.resource_metadata_url = params.resourceMetadataUrl ? params.resourceMetadataUrl.href : null;
out.scope = params.scope ?? null;
if (params.resourceMetadataUrl) {
  try {
    out.metadata = await discoverOAuthProtectedResourceMetadata(url, { resourceMetadataUrl: params.resourceMetadataUrl });
  } catch (err) {
    out.metadata_error = String(err.message || err);
  }
}
// and without the hint, by the SDK's own well-known path construction
try {
  out.metadata_by_path = await discoverOAuthProtectedResourceMetadata(url);
} catch (err) {
  out.metadata_by_path_error = String(err.message || err);
}
if (token) {
  out.with_token = await listTools(token);
  out.with_bad_token = await listTools('not-a-token-the-provider-knows');
  if (otherToken) {
    // active, but minted for another resource (RFC 8707): its audience
    // is not this server
    out.with_other_resource = await listTools(otherToken);
  }
}
clearTimeout(timer);
console.log(JSON.stringify(out));
