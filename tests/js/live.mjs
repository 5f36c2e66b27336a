// Live updates with the clients people use: graphql-ws (GraphiQL, Apollo Client's
// GraphQLWsLink, Relay, urql use it) and graphql-sse (distinct connections mode), each
// subscribed to `callLogEvents` on the gateway while the emulator makes calls. Each must
// see a new call (CREATED) and a status change (UPDATED) of one call, with the same
// node id and fields. Usage: node live.mjs <graphql url>
import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import WebSocket from 'ws';

const [url] = process.argv.slice(2);
const fail = (message) => { console.error(message); process.exit(1); };
const query = `subscription { callLogEvents(filter: { providers: [SIGNALWIRE] }) {
  cursor kind node { __typename id status provider } } }`;

// Subscribes with `client` until a call was seen CREATED and then UPDATED.
function follow(name, client) {
  return new Promise((resolve, reject) => {
    const created = new Map();
    const transcript = [];
    const timer = setTimeout(() => reject(new Error(`${name}: no CREATED then UPDATED within 30 s: ${JSON.stringify(transcript)}`)), 30000);
    const stop = client.subscribe({ query }, {
      next: (result) => {
        if (result.errors) { clearTimeout(timer); reject(new Error(`${name}: ${JSON.stringify(result.errors)}`)); return; }
        const event = result.data.callLogEvents;
        transcript.push(`${event.kind} ${event.node.id} ${event.node.status}`);
        if (typeof event.cursor !== 'string' || event.node.provider !== 'SIGNALWIRE') {
          clearTimeout(timer); reject(new Error(`${name}: bad event ${JSON.stringify(event)}`)); return;
        }
        if (event.kind === 'CREATED') created.set(event.node.id, event.node.status);
        if (event.kind === 'UPDATED' && created.has(event.node.id) && created.get(event.node.id) !== event.node.status) {
          clearTimeout(timer);
          stop();
          resolve(`${name}: ${transcript.length} events, ${event.node.id} ${created.get(event.node.id)} -> ${event.node.status}`);
        }
      },
      error: (e) => { clearTimeout(timer); reject(new Error(`${name}: ${e?.message ?? JSON.stringify(e)}`)); },
      complete: () => {},
    });
  });
}

const ws = createWsClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: true, retryAttempts: 0 });
const sse = createSseClient({ url, singleConnection: false, retryAttempts: 0 });
try {
  const results = await Promise.all([follow('graphql-ws', ws), follow('graphql-sse', sse)]);
  console.log(`ok: ${results.join('; ')}`);
} catch (e) {
  fail(String(e));
} finally {
  await ws.dispose();
  sse.dispose();
}
