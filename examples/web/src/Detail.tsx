// One call, fetched by `node(id)`: a SignalWire voice log with its events, a Voximplant
// session with its calls (the list rows prime the gateway's cache, so opening a detail
// costs the provider at most the fields the list did not have).
import { useQuery } from '@apollo/client/react';
import { CallDetailDocument } from './__generated__/graphql';
import { problems } from './errors';

export function Detail({ id }: { id: string | null }) {
  const { data, error, loading } = useQuery(CallDetailDocument, {
    variables: { id: id ?? '' },
    skip: !id,
    errorPolicy: 'all',
  });
  if (!id) return <aside className="detail empty">Select a call.</aside>;
  if (loading && !data) return <aside className="detail">Loading…</aside>;
  const node = data?.node;
  const trouble = problems(error);
  return (
    <aside className="detail" data-testid="detail" data-id={id}>
      {trouble.length > 0 && (
        <div role="alert" className="banner error">
          {trouble.map((p) => p.message).join('; ')}
        </div>
      )}
      {!node ? (
        <p>This call no longer exists.</p>
      ) : (
        <>
          <h2>{node.__typename}</h2>
          {'provider' in node && (
            <dl>
              <dt>Provider</dt>
              <dd>{node.provider}</dd>
              <dt>Native id</dt>
              <dd>{node.nativeId}</dd>
              <dt>Status</dt>
              <dd>
                {node.status} ({node.providerStatus ?? 'none'})
              </dd>
              <dt>From → to</dt>
              <dd>
                {node.from ?? '?'} → {node.to ?? '?'}
              </dd>
              <dt>Created</dt>
              <dd>{node.createdAt}</dd>
            </dl>
          )}
          {node.__typename === 'SignalWireVoiceLog' && (
            <section data-testid="events">
              <h3>Events ({node.events.length})</h3>
              <ol>
                {node.events.map((e, i) => (
                  <li key={i}>
                    {e.eventAt} {e.name} <small>{e.level}</small>
                  </li>
                ))}
              </ol>
            </section>
          )}
          {node.__typename === 'VoximplantCallSession' && (
            <section data-testid="voximplant-calls">
              <h3>Calls ({node.calls.length})</h3>
              <ol>
                {node.calls.map((c) => (
                  <li key={c.callId}>
                    {c.incoming ? 'in' : 'out'} {c.localNumber ?? '?'} ↔ {c.remoteNumber ?? '?'},{' '}
                    {c.durationSeconds ?? 0}s {c.successful ? '' : '(failed)'}
                  </li>
                ))}
              </ol>
            </section>
          )}
        </>
      )}
    </aside>
  );
}
