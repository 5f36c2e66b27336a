// The page: filters, "Export CSV" of the filter, a chart of calls per day, the merged
// timeline, and the detail of the selected call.
import { useState } from 'react';
import type { CallLogFilter, CallStatus, Provider } from './__generated__/graphql';
import { Chart } from './Chart';
import { Detail } from './Detail';
import { exportCsv } from './exportCsv';
import { Timeline } from './Timeline';

const PROVIDERS: Provider[] = ['SIGNALWIRE', 'ONEUPTIME', 'VOXIMPLANT'];
const STATUSES: CallStatus[] = ['COMPLETED', 'PLACED', 'IN_PROGRESS', 'RINGING', 'QUEUED', 'BUSY', 'NO_ANSWER', 'FAILED', 'CANCELED'];

export function App() {
  const [providers, setProviders] = useState<Provider[]>(PROVIDERS);
  const [status, setStatus] = useState<CallStatus | ''>('');
  const [selected, setSelected] = useState<string | null>(null);
  const [exportProblem, setExportProblem] = useState<string | null>(null);
  const [newest, setNewest] = useState<string | null>(null);

  const filter: CallLogFilter = {
    ...(providers.length < PROVIDERS.length ? { providers } : {}),
    ...(status ? { statuses: [status] } : {}),
  };
  const toggle = (p: Provider) =>
    setProviders((current) => (current.includes(p) ? current.filter((x) => x !== p) : [...current, p]));

  return (
    <div className="page">
      <header>
        <h1>Call logs</h1>
        <fieldset data-testid="filters">
          {PROVIDERS.map((p) => (
            <label key={p}>
              <input type="checkbox" checked={providers.includes(p)} onChange={() => toggle(p)} data-provider={p} />
              {p}
            </label>
          ))}
          <select value={status} onChange={(e) => setStatus(e.target.value as CallStatus | '')} data-testid="status">
            <option value="">any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <button
            type="button"
            data-testid="export-csv"
            disabled={providers.length === 0}
            onClick={() => {
              setExportProblem(null);
              exportCsv(filter).catch((e: unknown) => setExportProblem(e instanceof Error ? e.message : String(e)));
            }}
          >
            Export CSV
          </button>
        </fieldset>
        {exportProblem && (
          <div role="alert" className="banner error" data-testid="export-problem">
            {exportProblem}
          </div>
        )}
        {providers.length > 0 && newest && <Chart filter={filter} newest={newest} />}
      </header>
      <main>
        {providers.length === 0 ? (
          <p className="empty">Choose at least one provider.</p>
        ) : (
          <Timeline filter={filter} selected={selected} onSelect={setSelected} onNewest={setNewest} />
        )}
        <Detail id={selected} />
      </main>
    </div>
  );
}
