// CommonJS entry for Node: the generated glue reads the wasm synchronously on require.
"use strict";
const glue = require("../dist/cjs/cctoken.cjs");
// Built from fast-path.mjs by scripts/build.sh (Node 20's CommonJS cannot require ESM).
const { withFastPath } = require("../dist/cjs/fast-path.cjs");

module.exports = {
  BrokerClient: glue.BrokerClient,
  // The class the wasm makes its errors with (src/js/host_bridge.mjs); it recognises errors by
  // name, so instanceof agrees with the ESM entry's copy too.
  ClientCredentialError: glue.clientCredentialErrorClass(),
  ConfidentialClient: withFastPath(glue.ConfidentialClient),
  adminConsentUrl: glue.adminConsentUrl,
  loadConfigFile: glue.loadConfigFile,
  scopeForResource: glue.scopeForResource,
};
