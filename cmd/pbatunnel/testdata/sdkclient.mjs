// The official TypeScript SDK, loaded from MCP_SDK_DIR, and a client of it
// connected as the command line says: to a URL over Streamable HTTP, or,
// after "stdio", to COMMAND [ARGS...] over its stdio.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const load = (p) => import(pathToFileURL(join(process.env.MCP_SDK_DIR, 'dist/esm', p)).href);

// connect makes a client named name with options, lets setup register its
// handlers, connects it, and returns it with its transport.
export async function connect(name, options, setup = () => {}) {
  const { Client } = await load('client/index.js');
  let transport;
  if (process.argv[2] === 'stdio') {
    const { StdioClientTransport } = await load('client/stdio.js');
    transport = new StdioClientTransport({ command: process.argv[3], args: process.argv.slice(4), env: process.env });
  } else {
    const { StreamableHTTPClientTransport } = await load('client/streamableHttp.js');
    transport = new StreamableHTTPClientTransport(new URL(process.argv[2]));
  }
  const client = new Client({ name, version: '1.0.0' }, options);
  await setup(client);
  await client.connect(transport);
  return { client, transport };
}

// out prints a result as a JSON line.
export const out = (v) => process.stdout.write(JSON.stringify(v) + '\n');

// close ends the session (DELETE over HTTP) and the client.
export async function close({ client, transport }) {
  if (typeof transport.terminateSession === 'function') {
    await transport.terminateSession();
  }
  await client.close();
}
