// Apollo Client for the gateway: Relay-style pagination of `callLogs` (one list per
// filter), trusted documents (hash-only requests by GET, ids from the manifest the build
// generates), and the user's token on every request.
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
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

export const client = new ApolloClient({
  link: persisted.concat(http),
  cache: new InMemoryCache({
    possibleTypes,
    typePolicies: {
      Query: { fields: { callLogs: relayStylePagination(['filter']) } },
    },
  }),
});
