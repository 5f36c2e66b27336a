// The merged `callLogs` timeline, newest first, with infinite scroll: when the sentinel
// below the last row comes into view, the next page is fetched and appended by the
// cache's relayStylePagination policy. A provider that failed is shown in a banner while
// the others' calls stay listed; `catchingUp` says a page brings a resumed provider's
// calls that are newer than the rows above. Live: a `callLogEvents` subscription with the
// same filter puts new calls above the rows, and a status change updates its row in place
// (the event's node lands in Apollo's normalized cache under the same id).
import { useEffect, useRef, useState } from 'react';
import { useQuery, useSubscription } from '@apollo/client/react';
import {
  CallEventsDocument,
  TimelineDocument,
  type CallLogFilter,
  type CallRowFragment,
} from './__generated__/graphql';
import { problems, type ProblemReport } from './errors';
import { settings } from './settings';

type Props = {
  filter: CallLogFilter;
  selected: string | null;
  onSelect: (id: string) => void;
  /** When the newest listed call (not a live one) was created. */
  onNewest?: (createdAt: string) => void;
};

export function Timeline({ filter, selected, onSelect, onNewest }: Props) {
  const { data, error, loading, fetchMore } = useQuery(TimelineDocument, {
    variables: { first: settings.pageSize, filter },
    errorPolicy: 'all',
    notifyOnNetworkStatusChange: true,
  });
  const [pageProblems, setPageProblems] = useState<ProblemReport[]>([]);
  const sentinel = useRef<HTMLDivElement>(null);
  const [fresh, setFresh] = useState<CallRowFragment[]>([]);
  useEffect(() => setFresh([]), [JSON.stringify(filter)]);
  useSubscription(CallEventsDocument, {
    variables: { filter },
    onData: ({ data: result }) => {
      const event = result.data?.callLogEvents;
      if (!event) return;
      setFresh((rows) => {
        const at = rows.findIndex((r) => r.id === event.node.id);
        if (at >= 0) return rows.map((r, i) => (i === at ? event.node : r));
        if (event.kind !== 'CREATED') return rows;
        return [event.node, ...rows];
      });
    },
  });
  const connection = data?.callLogs;
  const newest = connection?.edges[0]?.node.createdAt;
  useEffect(() => {
    if (newest) onNewest?.(newest);
  }, [newest, onNewest]);
  const next = connection?.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null;

  useEffect(() => setPageProblems([]), [JSON.stringify(filter)]);

  useEffect(() => {
    const target = sentinel.current;
    if (!target || !next || loading) return;
    const observer = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      observer.disconnect();
      fetchMore({ variables: { after: next } })
        .then((result) => setPageProblems(problems(result.error)))
        .catch((e: unknown) => setPageProblems(problems(e)));
    });
    observer.observe(target);
    return () => observer.disconnect();
  }, [next, loading, fetchMore]);

  const shown = [...problems(error), ...pageProblems];
  const failed = [...new Set(shown.filter((p) => p.provider).map((p) => p.provider))];
  const edges = connection?.edges ?? [];
  const listed = new Set(edges.map(({ node }) => node.id));
  const rows = [
    ...fresh.filter((node) => !listed.has(node.id)).map((node) => ({ node, live: true })),
    ...edges.map(({ node }) => ({ node, live: false })),
  ];
  return (
    <section className="timeline">
      {failed.length > 0 && (
        <div role="alert" className="banner error" data-testid="provider-banner">
          {failed.join(', ')} could not be reached; showing the other providers' calls. (
          {shown.find((p) => p.provider)?.code})
        </div>
      )}
      {shown.some((p) => !p.provider) && (
        <div role="alert" className="banner error" data-testid="error-banner">
          {shown.find((p) => !p.provider)?.message}
        </div>
      )}
      {connection && connection.catchingUp.length > 0 && (
        <div role="status" className="banner info" data-testid="catching-up-banner">
          Catching up on {connection.catchingUp.join(', ')}: their calls on this page are newer than the rows above.
        </div>
      )}
      <ol data-testid="rows">
        {rows.map(({ node, live }) => (
          <li
            key={node.id}
            data-testid="call-row"
            data-live={live ? 'new' : undefined}
            data-id={node.id}
            data-created={node.createdAt}
            data-provider={node.provider}
            className={node.id === selected ? 'selected' : undefined}
            onClick={() => onSelect(node.id)}
          >
            <span className={`provider ${node.provider.toLowerCase()}`}>{node.provider}</span>
            <time dateTime={node.createdAt}>{new Date(node.createdAt).toLocaleString()}</time>
            <span className="status">{node.status}</span>
            <span className="parties">
              {node.from ?? '?'} → {node.to ?? '?'}
            </span>
            <span className="cost">{node.cost ? `${node.cost.amount} ${node.cost.currency}` : ''}</span>
          </li>
        ))}
      </ol>
      <div ref={sentinel} className="sentinel" data-testid="sentinel">
        {loading ? 'Loading…' : next ? '' : edges.length ? 'No more calls.' : 'No calls.'}
      </div>
    </section>
  );
}
