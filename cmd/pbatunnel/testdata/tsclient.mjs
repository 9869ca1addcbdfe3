// A knowledge-graph session with the official TypeScript SDK client, to
// compare a server through pbatunnel with the same server direct. Usage:
//
//   MCP_SDK_DIR=.../@modelcontextprotocol/sdk node tsclient.mjs URL
//   MCP_SDK_DIR=... node tsclient.mjs stdio COMMAND [ARGS...]
//
// Each result (or error) is printed as a JSON line.
import { close, connect, out } from './sdkclient.mjs';

const session = await connect('ts-client');
const { client } = session;
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
await close(session);
