// Apollo Client for the gateway: Relay-style pagination of `callLogs` (one list per
// filter), trusted documents (hash-only requests by GET, ids from the manifest the build
// generates), and the user's token on every request. Subscriptions go over a WebSocket to
// the same URL (graphql-transport-ws, the token in `connection_init`), hash-only too.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { relayStylePagination } from '@apollo/client/utilities';
import { generatePersistedQueryIdsFromManifest } from '@apollo/persisted-query-lists';
import { possibleTypes } from './__generated__/possible-types';
import { settings } from './settings';

const persisted = new PersistedQueryLink({
  ...generatePersistedQueryIdsFromManifest({
    loadManifest: () => import('../persisted-query-manifest.json'),
  }),
  // Hash-only queries go by GET, so the browser can cache them (the gateway answers with
  // Cache-Control and ETag).
  useGETForHashedQueries: true,
});

const http = new HttpLink({
  uri: settings.gateway,
  headers: settings.token ? { authorization: `Bearer ${settings.token}` } : {},
});

const socket = new GraphQLWsLink(
  createClient({
    url: settings.gateway.replace(/^http/, 'ws'),
    connectionParams: settings.token ? { Authorization: `Bearer ${settings.token}` } : {},
    lazy: true,
  }),
);

const isSubscription = ({ query }: ApolloLink.Operation) => {
  const definition = getMainDefinition(query);
  return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
};

export const client = new ApolloClient({
  link: persisted.concat(ApolloLink.split(isSubscription, socket, http)),
  cache: new InMemoryCache({
    possibleTypes,
    typePolicies: {
      Query: { fields: { callLogs: relayStylePagination(['filter']) } },
    },
  }),
});
