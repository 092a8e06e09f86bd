// CommonJS entry for Node: the generated glue reads the wasm synchronously on require.
"use strict";
const glue = require("../dist/cjs/cctoken.cjs");
// Built from fast-path.mjs by scripts/build.sh (Node 20's CommonJS cannot require ESM).
const { withFastPath } = require("../dist/cjs/fast-path.cjs");

// Same check as errors.mjs (ESM cannot be required from Node 20's CommonJS): errors are
// recognised by name, so instanceof agrees across the two copies.
class ClientCredentialError extends Error {
  static [Symbol.hasInstance](value) {
    return value instanceof Error && value.name === "ClientCredentialError";
  }
}

module.exports = {
  BrokerClient: glue.BrokerClient,
  ClientCredentialError,
  ConfidentialClient: withFastPath(glue.ConfidentialClient),
  adminConsentUrl: glue.adminConsentUrl,
  loadConfigFile: glue.loadConfigFile,
  scopeForResource: glue.scopeForResource,
};
