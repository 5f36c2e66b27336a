// "Export CSV": every call of the page's filter from the gateway's export route
// (`GET /export/call-logs?format=csv`), with the user's token, saved under the file name
// the gateway gives (`Content-Disposition`).
import type { CallLogFilter } from './__generated__/graphql';
import { settings } from './settings';

export async function exportCsv(filter: CallLogFilter): Promise<void> {
  const url = new URL('export/call-logs', settings.gateway);
  url.searchParams.set('format', 'csv');
  url.searchParams.set('filter', JSON.stringify(filter));
  const response = await fetch(url, {
    headers: settings.token ? { authorization: `Bearer ${settings.token}` } : {},
  });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new Error(body?.errors?.[0]?.message ?? `export failed: ${response.status}`);
  }
  const disposition = response.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'call-logs.csv';
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
