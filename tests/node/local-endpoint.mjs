// The setup most behavioural suites share: one local token endpoint per file, reset to its
// defaults before each test, and clients of the local app pointed at it.
import { before, after, beforeEach } from "node:test";
import { ConfidentialClient } from "cctoken";
import { LOCAL_APP, startTokenEndpoint } from "../token-endpoint/server.mjs";

/**
 * Registers the hooks and returns `{ endpoint, newClient }`; `endpoint` is a getter, set once
 * the file's `before` hook ran. `defaults` are options every `newClient` starts from.
 */
export function useLocalEndpoint(defaults = {}) {
  let endpoint;
  before(async () => {
    endpoint = await startTokenEndpoint();
  });
  after(() => endpoint.close());
  beforeEach(() => {
    endpoint.reset();
    endpoint.settings.tokenLifetimeSeconds = 3599;
    endpoint.settings.refreshInSeconds = undefined;
  });
  return {
    get endpoint() {
      return endpoint;
    },
    newClient: (overrides = {}) =>
      new ConfidentialClient({
        clientId: LOCAL_APP.clientId,
        authority: endpoint.authority,
        credential: { clientSecret: LOCAL_APP.clientSecret },
        ...defaults,
        ...overrides,
      }),
  };
}
