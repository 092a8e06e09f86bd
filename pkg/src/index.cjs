// CommonJS entry for Node: the generated glue reads the wasm synchronously on require.
"use strict";
const glue = require("../dist/cjs/cctoken.cjs");
// Built from fast-path.mjs by scripts/build.sh (Node 20's CommonJS cannot require ESM).
const { withFastPath } = require("../dist/cjs/fast-path.cjs");
const { withPersistentCache } = require("../dist/cjs/persistent-cache.cjs");
// The class the wasm makes its errors with (src/js/host_bridge.mjs); it recognises errors by
// name, so instanceof agrees with the ESM entry's copy too.
const ClientCredentialError = glue.clientCredentialErrorClass();

module.exports = {
  BrokerClient: glue.BrokerClient,
  ClientCredentialError,
  ConfidentialClient: withFastPath(withPersistentCache(glue.ConfidentialClient, glue.persistentCacheKeyMaterial, ClientCredentialError)),
  adminConsentUrl: glue.adminConsentUrl,
  loadConfigFile: glue.loadConfigFile,
  scopeForResource: glue.scopeForResource,
};
