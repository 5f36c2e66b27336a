// The sample frontend (examples/web, built) in headless Chromium against a gateway that
// requires a JWT, trusted documents and CORS: scrolls the merged timeline three pages,
// checks no row repeats and the order is newest first, opens a SignalWire and a Voximplant
// detail, then makes SignalWire fail at the emulator and expects the provider banner (the
// other providers still listed), and after the fault clears, the catching-up banner.
// The chart's bars (callLogStats) add up to its total, and "Export CSV" downloads the
// filter's whole timeline, starting with the listed rows in their order.
// Every request to the gateway must be hash-only (no query text) and carry the token.
// A second user, whose token lacks `calls:numbers`, sees the same calls with every phone
// number masked, while the first user sees them whole. Live: a call started at the emulator
// appears at the top without a reload, and its status change shows in place.
// Usage: node webapp.mjs <app url> <gateway url> <emulator base url> <app url as the second user>
import { chromium } from 'playwright-core';

const [appUrl, gatewayUrl, emulatorUrl, maskedAppUrl] = process.argv.slice(2);
const fail = (message) => { console.error(message); process.exit(1); };
const emulator = (method, path, body) =>
  fetch(new URL(path, emulatorUrl), {
    method,
    headers: { 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  }).then((r) => { if (!r.ok) fail(`emulator ${method} ${path}: ${r.status}`); });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const problems = [];
const gatewayRequests = [];
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  page.on('pageerror', (e) => problems.push(`page error: ${e}`));
  page.on('request', (r) => {
    if (r.url().startsWith(gatewayUrl) && r.method() !== 'OPTIONS') {
      gatewayRequests.push({ method: r.method(), url: r.url(), body: r.postData(), auth: r.headers().authorization });
    }
  });
  const rows = page.locator('[data-testid="call-row"]');
  const rowData = () => rows.evaluateAll((els) => els.map((e) => ({
    id: e.dataset.id, created: e.dataset.created, provider: e.dataset.provider,
  })));

  await page.goto(appUrl, { waitUntil: 'load' });
  await rows.first().waitFor({ timeout: 30000 });
  const firstPage = await rows.count();
  let count = firstPage;
  for (let i = 1; i <= 3; i++) {
    await page.locator('[data-testid="sentinel"]').scrollIntoViewIfNeeded();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="call-row"]').length > n, count, { timeout: 30000 });
    count = await rows.count();
  }
  const listed = await rowData();
  const ids = new Set(listed.map((r) => r.id));
  if (ids.size !== listed.length) fail(`${listed.length - ids.size} duplicate rows among ${listed.length}`);
  for (let i = 1; i < listed.length; i++) {
    if (Date.parse(listed[i].created) > Date.parse(listed[i - 1].created)) {
      fail(`row ${i} (${listed[i].created}) is newer than row ${i - 1} (${listed[i - 1].created})`);
    }
  }
  const providers = new Set(listed.map((r) => r.provider));
  if (providers.size < 3) fail(`expected all three providers in ${listed.length} rows, got ${[...providers]}`);

  // The chart: calls per day per provider from callLogStats, its bars adding up to its total.
  const chart = page.locator('[data-testid="chart"]');
  await chart.locator('figcaption', { hasText: 'calls in the 30 days to' }).waitFor({ timeout: 30000 });
  const charted = Number(await chart.getAttribute('data-total'));
  const barCounts = await chart.locator('[data-testid="bar"]').evaluateAll((els) => els.map((e) => Number(e.dataset.count)));
  const barSum = barCounts.reduce((a, b) => a + b, 0);
  if (!(charted > 0) || barSum !== charted) fail(`chart total ${charted}, bars add up to ${barSum}`);

  // Export CSV: the whole timeline of the filter as a file, the listed rows among it.
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 30000 }),
    page.locator('[data-testid="export-csv"]').click(),
  ]);
  const { readFile } = await import('node:fs/promises');
  const csv = await readFile(await download.path(), 'utf8');
  const csvLines = csv.trimEnd().split('\r\n');
  if (!csvLines[0].startsWith('__typename,id,provider,')) fail(`export header: ${csvLines[0]}`);
  if (csvLines.some((l) => l.startsWith('# INCOMPLETE'))) fail(`incomplete export: ${csvLines.at(-1)}`);
  const exportedIds = csvLines.slice(1).map((l) => l.split(',')[1]);
  if (exportedIds.length < listed.length) fail(`export has ${exportedIds.length} rows, fewer than the ${listed.length} listed`);
  if (JSON.stringify(exportedIds.slice(0, listed.length)) !== JSON.stringify(listed.map((r) => r.id))) {
    fail('the export does not start with the listed rows in their order');
  }
  if (download.suggestedFilename() !== 'call-logs.csv') fail(`export file name ${download.suggestedFilename()}`);

  // Details by node(id): a SignalWire voice log's events, a Voximplant session's calls.
  const signalwire = listed.find((r) => r.provider === 'SIGNALWIRE');
  await page.locator(`[data-testid="call-row"][data-id="${signalwire.id}"]`).click();
  await page.locator(`[data-testid="detail"][data-id="${signalwire.id}"]`).waitFor({ timeout: 30000 });
  const detailText = await page.locator('[data-testid="detail"]').textContent();
  if (detailText.includes('SignalWireVoiceLog')) {
    await page.locator('[data-testid="events"]').waitFor({ timeout: 30000 });
  }
  const voximplant = listed.find((r) => r.provider === 'VOXIMPLANT');
  await page.locator(`[data-testid="call-row"][data-id="${voximplant.id}"]`).click();
  await page.locator(`[data-testid="detail"][data-id="${voximplant.id}"] [data-testid="voximplant-calls"]`).waitFor({ timeout: 30000 });

  // The second user: the same first page, every number masked (first three and last two
  // characters kept), none whole; the first user's numbers are whole.
  const parties = (p) => p.locator('[data-testid="call-row"] .parties').allTextContents();
  const whole = /\+\d{7,}/;
  const shown = await parties(page);
  if (shown.some((t) => t.includes('•'))) fail(`the first user sees masked numbers: ${shown.slice(0, 3)}`);
  if (!shown.some((t) => whole.test(t))) fail(`the first user sees no whole number: ${shown.slice(0, 3)}`);
  const second = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  second.on('pageerror', (e) => problems.push(`page error (second user): ${e}`));
  await second.goto(maskedAppUrl, { waitUntil: 'load' });
  await second.locator('[data-testid="call-row"]').first().waitFor({ timeout: 30000 });
  const maskedRows = await second.locator('[data-testid="call-row"]').evaluateAll((els) => els.map((e) => e.dataset.id));
  const expectedRows = listed.slice(0, maskedRows.length).map((r) => r.id);
  if (JSON.stringify(maskedRows) !== JSON.stringify(expectedRows)) fail('the second user sees other calls than the first');
  const masked = await parties(second);
  const leaked = masked.filter((t) => whole.test(t));
  if (leaked.length) fail(`whole numbers shown to the second user: ${leaked.slice(0, 3)}`);
  if (!masked.some((t) => /\+\d{2}•+\d{2}/.test(t))) fail(`no masked number in the second user's rows: ${masked.slice(0, 3)}`);
  await second.close();

  // Live: a call starts at SignalWire, which calls the gateway back (signed); the call
  // appears above the rows without a reload, then its status changes in place. (Tried up
  // to five times: the page's subscription may still be starting.)
  const live = (path) => fetch(new URL(path, emulatorUrl), { method: 'POST' }).then((r) => {
    if (!r.ok) fail(`emulator POST ${path}: ${r.status}`);
    return r.json();
  });
  const newRow = page.locator('[data-testid="call-row"][data-live="new"]').first();
  let call = null;
  for (let attempt = 0; attempt < 5 && !call; attempt++) {
    call = (await live('/__emulator/live/signalwire/calls')).id;
    try {
      await newRow.waitFor({ timeout: 5000 });
    } catch {
      call = null;
    }
  }
  if (!call) fail('no new call appeared live');
  const liveId = await newRow.getAttribute('data-id');
  if ((await rows.first().getAttribute('data-id')) !== liveId) fail('the new call is not the top row');
  const liveStatus = () => page.locator(`[data-testid="call-row"][data-id="${liveId}"] .status`).textContent();
  if ((await liveStatus()) !== 'RINGING') fail(`the new call shows ${await liveStatus()}, not RINGING`);
  await live(`/__emulator/live/signalwire/calls/${call}/advance`);
  await page.locator(`[data-testid="call-row"][data-id="${liveId}"] .status`, { hasText: 'IN_PROGRESS' }).waitFor({ timeout: 30000 });
  if ((await rows.first().getAttribute('data-id')) !== liveId) fail('the updated call moved');

  // SignalWire fails: the banner names it, the other providers' calls are still listed.
  for (const path_prefix of ['/api/voice', '/api/video']) {
    await emulator('POST', '/__emulator/faults', { kind: 'status', status: 503, path_prefix });
  }
  await page.reload({ waitUntil: 'load' });
  await page.locator('[data-testid="provider-banner"]', { hasText: 'SIGNALWIRE' }).waitFor({ timeout: 30000 });
  const partial = await rowData();
  if (!partial.length) fail('no rows while only SignalWire failed');
  if (partial.some((r) => r.provider === 'SIGNALWIRE')) fail('SignalWire rows while SignalWire failed');

  // The fault clears; the next page resumes SignalWire and says it is catching up.
  await emulator('DELETE', '/__emulator/faults');
  await page.locator('[data-testid="sentinel"]').scrollIntoViewIfNeeded();
  await page.locator('[data-testid="catching-up-banner"]', { hasText: 'SIGNALWIRE' }).waitFor({ timeout: 30000 });

  const withText = gatewayRequests.filter((r) => new URL(r.url).searchParams.has('query') || (r.body ?? '').includes('"query"'));
  if (withText.length) fail(`requests with query text (trusted documents expect ids only): ${withText.map((r) => r.url).join(', ')}`);
  const unsigned = gatewayRequests.filter((r) => !r.auth?.startsWith('Bearer '));
  if (unsigned.length) fail(`${unsigned.length} gateway requests without the token`);
  if (problems.length) fail(problems.join('\n'));
  console.log(`ok: ${firstPage} rows, then ${count} after 3 scrolls (${ids.size} distinct, newest first, ${providers.size} providers); `
    + `chart of ${charted} calls in ${barCounts.length} bars; export of ${exportedIds.length} CSV rows; `
    + `SignalWire and Voximplant details; ${masked.length} rows with masked numbers for a second user; `
    + `a live call at the top, RINGING then IN_PROGRESS in place; `
    + `fault banner with ${partial.length} rows; catching-up banner; `
    + `${gatewayRequests.length} gateway requests, all hash-only with a token`);
} catch (e) {
  fail(`${e}\n${problems.join('\n')}`);
} finally {
  await browser.close();
}
