// GraphiQL in headless Chromium, offline: opens the gateway's page, runs a query from the
// editor, runs a subscription until its first event, opens the docs of `callLogs`, and fails on any failed or non-local request and
// on any console error. Usage: node graphiql.mjs <graphql url>  (CHROMIUM overrides the
// browser path, default /usr/bin/chromium).
import { chromium } from 'playwright-core';

const [url] = process.argv.slice(2);
const origin = new URL(url).origin;
const fail = (message) => { console.error(message); process.exit(1); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const problems = [];
const requested = [];
const sockets = [];
try {
  const page = await browser.newPage();
  page.on('request', (r) => {
    requested.push(r.url());
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) problems.push(`request to elsewhere: ${r.url()}`);
  });
  page.on('requestfailed', (r) => problems.push(`failed request: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e}`));
  page.on('websocket', (socket) => {
    sockets.push(socket.url());
    if (!socket.url().startsWith(origin.replace(/^http/, 'ws'))) problems.push(`WebSocket to elsewhere: ${socket.url()}`);
  });

  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 20000 });

  // A query typed into the editor, run with the execute button.
  await page.evaluate(() => {
    const editor = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror;
    editor.setValue('{ callLogs(first: 3) { edges { node { id provider status createdAt } } } }');
  });
  await page.click('.graphiql-execute-button');
  // Locator waits (not waitForFunction, whose eval the page's CSP rightly forbids).
  await page.locator('.graphiql-response', { hasText: '"provider"' }).waitFor({ timeout: 20000 });
  const result = await page.textContent('.graphiql-response');
  if (!result.includes('"callLogs"') || result.includes('"errors"')) fail(`unexpected result: ${result.slice(0, 500)}`);

  // A subscription: GraphiQL runs it over a WebSocket to the same URL (graphql-transport-ws,
  // with the graphql-ws client of its own bundle) and shows each event as it arrives.
  await page.evaluate(() => {
    const editor = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror;
    editor.setValue('subscription { callLogEvents { kind node { id provider status } } }');
  });
  await page.click('.graphiql-execute-button');
  try {
    await page.locator('.graphiql-response', { hasText: '"callLogEvents"' }).waitFor({ timeout: 20000 });
  } catch (e) {
    fail(`no subscription event shown: ${e}\nresponse pane: ${(await page.textContent('.graphiql-response')).slice(0, 500)}\n${problems.join('\n')}`);
  }
  const event = await page.textContent('.graphiql-response');
  if (!/"kind": "(CREATED|UPDATED)"/.test(event) || event.includes('"errors"')) fail(`unexpected event: ${event.slice(0, 500)}`);
  if (sockets.length !== 1) fail(`expected the subscription on one WebSocket, saw ${JSON.stringify(sockets)}`);
  await page.click('.graphiql-execute-button'); // stops the subscription

  // The docs explorer: Query, then callLogs.
  await page.click('[aria-label="Show Documentation Explorer"]');
  await page.locator('.graphiql-doc-explorer a', { hasText: /^Query$/ }).first().click({ timeout: 20000 });
  await page.locator('.graphiql-doc-explorer a', { hasText: /^callLogs$/ }).first().click({ timeout: 20000 });
  await page.locator('.graphiql-doc-explorer', { hasText: 'newest-first connection' }).waitFor({ timeout: 20000 });
  if (problems.length) fail(problems.join('\n'));
  console.log(`ok: ${requested.length} requests, all to ${origin}; query ran; a subscription event arrived over ${sockets[0]}; callLogs docs shown`);
} catch (e) {
  fail(`${e}\n${problems.join('\n')}`);
} finally {
  await browser.close();
}
