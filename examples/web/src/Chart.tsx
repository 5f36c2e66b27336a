// Calls per day per provider over the 30 days up to the newest call listed, for the
// page's filter: one `callLogStats` query (grouped by PROVIDER and PERIOD, in the
// browser's time zone), drawn as stacked bars. The window runs from a midnight to a
// midnight, so the query repeats the same way and the gateway answers it from its cache.
import { useMemo } from 'react';
import { useQuery } from '@apollo/client/react';
import { CallStatsDocument, type CallLogFilter, type Provider } from './__generated__/graphql';
import { problems } from './errors';

const DAYS = 30;
const PROVIDERS: Provider[] = ['SIGNALWIRE', 'ONEUPTIME', 'VOXIMPLANT'];
const WIDTH = 600;
const HEIGHT = 80;

export function Chart({ filter, newest }: { filter: CallLogFilter; newest: string }) {
  const [since, until] = useMemo(() => {
    const end = new Date(newest);
    end.setHours(0, 0, 0, 0);
    end.setDate(end.getDate() + 1);
    const start = new Date(end);
    start.setDate(start.getDate() - DAYS);
    return [start, end];
  }, [newest]);
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const window = {
    // createdAfter is exclusive: one millisecond before midnight.
    createdAfter: new Date(since.getTime() - 1).toISOString(),
    createdBefore: until.toISOString(),
  };
  const { data, error } = useQuery(CallStatsDocument, {
    variables: { filter: { ...filter, ...window }, timeZone },
    errorPolicy: 'all',
  });
  const stats = data?.callLogStats;
  const days = Array.from({ length: DAYS }, (_, i) => {
    const day = new Date(since);
    day.setDate(day.getDate() + i);
    return day.getTime();
  });
  const counts = new Map<string, number>();
  for (const { key, count } of stats?.buckets ?? []) {
    if (key.provider && key.periodStart) counts.set(`${Date.parse(key.periodStart)}/${key.provider}`, count);
  }
  const perDay = days.map((d) => PROVIDERS.reduce((sum, p) => sum + (counts.get(`${d}/${p}`) ?? 0), 0));
  const most = Math.max(1, ...perDay);
  const slot = WIDTH / DAYS;
  const failed = problems(error).filter((p) => p.provider).map((p) => p.provider);
  return (
    <figure className="chart" data-testid="chart" data-total={stats?.totals.count ?? ''}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="calls per day per provider">
        {days.flatMap((day, i) => {
          let top = HEIGHT;
          return PROVIDERS.map((provider) => {
            const count = counts.get(`${day}/${provider}`) ?? 0;
            const height = (count / most) * HEIGHT;
            top -= height;
            return count ? (
              <rect
                key={`${day}/${provider}`}
                data-testid="bar"
                data-provider={provider}
                data-count={count}
                className={`bar ${provider.toLowerCase()}`}
                x={i * slot + 1}
                y={top}
                width={slot - 2}
                height={height}
              >
                <title>{`${new Date(day).toLocaleDateString()}: ${count} ${provider}`}</title>
              </rect>
            ) : null;
          });
        })}
      </svg>
      <figcaption>
        {stats ? `${stats.totals.count} calls in the ${DAYS} days to ${new Date(newest).toLocaleDateString()}` : 'Counting calls…'}
        {stats && !stats.complete && failed.length > 0 && ` (without ${failed.join(', ')})`}
      </figcaption>
    </figure>
  );
}
