// GraphiQL in headless Chromium, offline: opens the gateway's page, runs a query from the
// editor, opens the docs of `callLogs`, and fails on any failed or non-local request and
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

  // The docs explorer: Query, then callLogs.
  await page.click('[aria-label="Show Documentation Explorer"]');
  await page.locator('.graphiql-doc-explorer a', { hasText: /^Query$/ }).first().click({ timeout: 20000 });
  await page.locator('.graphiql-doc-explorer a', { hasText: /^callLogs$/ }).first().click({ timeout: 20000 });
  await page.locator('.graphiql-doc-explorer', { hasText: 'newest-first connection' }).waitFor({ timeout: 20000 });
  if (problems.length) fail(problems.join('\n'));
  console.log(`ok: ${requested.length} requests, all to ${origin}; query ran; callLogs docs shown`);
} catch (e) {
  fail(`${e}\n${problems.join('\n')}`);
} finally {
  await browser.close();
}
