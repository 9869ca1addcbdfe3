// A knowledge-graph session with the official TypeScript SDK client, to
// compare a server through pbatunnel with the same server direct. Usage:
//
//   MCP_SDK_DIR=.../@modelcontextprotocol/sdk node tsclient.mjs URL
//   MCP_SDK_DIR=... node tsclient.mjs stdio COMMAND [ARGS...]
//
// Each result (or error) is printed as a JSON line.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const load = (p) => import(pathToFileURL(join(process.env.MCP_SDK_DIR, 'dist/esm', p)).href);
const { Client } = await load('client/index.js');

let transport;
if (process.argv[2] === 'stdio') {
  const { StdioClientTransport } = await load('client/stdio.js');
  transport = new StdioClientTransport({ command: process.argv[3], args: process.argv.slice(4), env: process.env });
} else {
  const { StreamableHTTPClientTransport } = await load('client/streamableHttp.js');
  transport = new StreamableHTTPClientTransport(new URL(process.argv[2]));
}
const client = new Client({ name: 'ts-client', version: '1.0.0' });
await client.connect(transport);

const out = (v) => process.stdout.write(JSON.stringify(v) + '\n');
const call = async (name, args) => {
  try {
    out(await client.callTool({ name, arguments: args }));
  } catch (e) {
    out({ error: String(e.message) });
  }
};
out(client.getServerVersion());
out(await client.listTools());
await call('create_entities', {
  entities: [
    { name: 'Alice', entityType: 'person', observations: ['writes TypeScript'] },
    { name: 'Bob', entityType: 'person', observations: [] },
  ],
});
await call('create_relations', { relations: [{ from: 'Alice', to: 'Bob', relationType: 'knows' }] });
await call('add_observations', { observations: [{ entityName: 'Nobody', contents: ['x'] }] });
await call('search_nodes', { query: 'TypeScript' });
await call('read_graph', {});
await call('no_such_tool', {});
if (typeof transport.terminateSession === 'function') {
  await transport.terminateSession();
}
await client.close();
