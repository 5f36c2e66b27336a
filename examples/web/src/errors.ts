// What the gateway's errors mean for the user: which provider failed (partial results)
// and why, from `extensions.code` and `extensions.provider` (the gateway's stable codes).
import { CombinedGraphQLErrors } from '@apollo/client';

export type ProblemReport = { provider: string | null; code: string; message: string };

export function problems(error: unknown): ProblemReport[] {
  if (!error) return [];
  if (CombinedGraphQLErrors.is(error)) {
    return error.errors.map((e) => ({
      provider: typeof e.extensions?.provider === 'string' ? e.extensions.provider : null,
      code: typeof e.extensions?.code === 'string' ? e.extensions.code : 'UNKNOWN',
      message: e.message,
    }));
  }
  return [{ provider: null, code: 'NETWORK', message: error instanceof Error ? error.message : String(error) }];
}
