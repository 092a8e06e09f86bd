// CommonJS entry for Node: the generated glue reads the wasm synchronously on require.
"use strict";
const glue = require("../dist/cjs/cctoken.cjs");

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
  ConfidentialClient: glue.ConfidentialClient,
  adminConsentUrl: glue.adminConsentUrl,
  loadConfigFile: glue.loadConfigFile,
  scopeForResource: glue.scopeForResource,
};
