// A session with server-everything from the official TypeScript SDK
// client, answering the server's sampling, elicitation and roots requests,
// to compare the server through pbatunnel with the same server direct.
// Usage as tsclient.mjs (URL, or stdio COMMAND [ARGS...]); each result,
// then the progress seen, is printed as a JSON line.
import { close, connect, load, out } from './sdkclient.mjs';

const types = await load('types.js');
const session = await connect('ts-everything', { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } }, (client) => {
  client.setRequestHandler(types.CreateMessageRequestSchema, async (req) => ({
    model: 'test-model', role: 'assistant', content: { type: 'text', text: 'sampled: ' + req.params.messages.length },
  }));
  client.setRequestHandler(types.ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Ada', check: true } }));
  client.setRequestHandler(types.ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///work', name: 'work' }] }));
});
const { client } = session;

const progress = [];
const call = async (name, args, opts) => {
  try {
    out(await client.callTool({ name, arguments: args }, undefined, opts));
  } catch (e) {
    out({ error: String(e.message) });
  }
};
out((await client.listTools()).tools.map((t) => t.name).sort());
await call('echo', { message: 'hello' });
await call('get-sum', { a: 2, b: 40 });
await call('trigger-long-running-operation', { duration: 0.3, steps: 3 }, { onprogress: (p) => progress.push(p.progress) });
await call('trigger-sampling-request', { prompt: 'hi', maxTokens: 10 });
await call('trigger-elicitation-request', {});
await call('get-roots-list', {});
await call('no-such-tool', {});
// The last notification may come after the answer: that progress came
// is what compares.
out(progress.length > 0);
await close(session);
