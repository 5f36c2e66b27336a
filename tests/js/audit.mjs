// The GraphQL over HTTP specification's own audit suite (graphql-http's `auditServer`,
// pinned in package.json) against the gateway: every audit must pass, MUST, SHOULD and
// MAY alike, so a warning (SHOULD) or a notice (MAY) fails this check as an error does.
// Prints the audit's summary line, and each audit that did not pass with its reason.
// Usage: node audit.mjs <gateway url>
import { auditServer } from 'graphql-http';

const [url] = process.argv.slice(2);
const results = await auditServer({ url });
const count = (status) => results.filter((r) => r.status === status).length;
const summary = `${results.length} audits: ${count('ok')} ok, ${count('warn')} warnings, `
  + `${count('notice')} notices, ${count('error')} errors`;
const failed = results.filter((r) => r.status !== 'ok');
if (failed.length) {
  for (const r of failed) console.error(`${r.status} ${r.id} ${r.name}: ${r.reason}`);
  console.error(summary);
  process.exit(1);
}
console.log(`ok: ${summary}`);
