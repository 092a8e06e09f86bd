// CommonJS entry for Node and Bun: require() loads the ESM entries' own glue, wasm and
// wrappers (ES modules without top-level await, which Node 20.19+ and 22.12+ can require), so a
// process that uses both entries has one wasm instance and one error class.
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");
const glue = require("../dist/web/cctoken.js");
const { withFastPath } = require("./fast-path.mjs");
const { withPersistentCache } = require("./persistent-cache.mjs");

// A no-op when the ESM entry has already instantiated the shared glue.
glue.initSync({ module: readFileSync(join(__dirname, "..", "dist", "web", "cctoken_bg.wasm")) });
// The class the wasm makes its errors with (src/js/host_bridge.mjs).
const ClientCredentialError = glue.clientCredentialErrorClass();

module.exports = {
  BrokerClient: glue.BrokerClient,
  ClientCredentialError,
  ConfidentialClient: withFastPath(withPersistentCache(glue.ConfidentialClient, glue.persistentCacheKeyMaterial, ClientCredentialError)),
  adminConsentUrl: glue.adminConsentUrl,
  loadConfigFile: glue.loadConfigFile,
  scopeForResource: glue.scopeForResource,
};
