// What graphql-js (the reference implementation, and the core of GraphiQL, Apollo Client
// tooling and relay-compiler's validation) makes of the gateway's schema:
// 1. GraphiQL 4's introspection query runs without errors;
// 2. the full introspection query (every option on) rebuilds exactly schema.graphql;
// 3. a query with one fragment per CallLog / Node type, as Relay writes them, validates;
// 4. that query runs, and `data` keeps every field asked.
// Usage: node introspect.mjs <graphql url> <schema.graphql path>
import {
  buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema, parse,
  printSchema, validate,
} from 'graphql';
import { readFileSync } from 'node:fs';

const [url, schemaPath] = process.argv.slice(2);
const fail = (message) => { console.error(message); process.exit(1); };

async function post(query, variables = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (!response.ok || body.errors) fail(`HTTP ${response.status}: ${JSON.stringify(body.errors ?? body).slice(0, 2000)}`);
  return body.data;
}

// 1. GraphiQL 4 (@graphiql/react) asks with its defaults.
await post(getIntrospectionQuery({ schemaDescription: false, inputValueDeprecation: false }));

// 2. Every option graphql-js 16 knows.
const full = await post(getIntrospectionQuery({
  descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true,
  schemaDescription: true, inputValueDeprecation: true, oneOf: true,
}));
const served = buildClientSchema(full);
const print = (schema) => printSchema(lexicographicSortSchema(schema));
const fromServer = print(served);
const fromFile = print(buildSchema(readFileSync(schemaPath, 'utf8')));
if (fromServer !== fromFile) {
  const a = fromServer.split('\n');
  const b = fromFile.split('\n');
  const at = a.findIndex((line, i) => line !== b[i]);
  fail(`the served schema differs from schema.graphql at line ${at + 1}:\n  served: ${a[at]}\n  file:   ${b[at]}`);
}

// 3. Fragments per type, as relay-compiler and graphql-inspector check them.
const document = parse(`
  query Timeline {
    callLogs(first: 10) { edges { node { __typename id provider status createdAt
      ...Voice ...Video ...Uptime ...Vox ...Gone } } }
  }
  fragment Voice on SignalWireVoiceLog { voiceSource voiceType providerSource providerType lamlUrl durationMs billingMs }
  fragment Video on SignalWireVideoLog { providerSource videoType providerType url roomName }
  fragment Uptime on OneUptimeCallLog { statusMessage callData userId projectId }
  fragment Vox on VoximplantCallSession { sessionId userId applicationId applicationName }
  fragment Gone on DiscardedCallLog { discardedAt }
`);
const errors = validate(served, document);
if (errors.length) fail(`graphql-js rejects fragments per type:\n${errors.map(String).join('\n')}`);

// 4. The server answers it with every field asked.
const data = await post(document.loc.source.body);
const edges = data.callLogs.edges;
if (edges.length !== 10) fail(`expected 10 edges, got ${edges.length}`);
for (const { node } of edges) {
  for (const key of ['__typename', 'id', 'provider', 'status', 'createdAt']) {
    if (!(key in node)) fail(`${node.__typename} lacks ${key}`);
  }
}
console.log(`ok: ${served.getTypeMap() ? Object.keys(served.getTypeMap()).length : 0} types, schema.graphql rebuilt exactly, ${edges.length} timeline items`);
