// CommonJS entry for Node: the generated glue reads the wasm synchronously on require.
"use strict";
const { ConfidentialClient, adminConsentUrl, scopeForResource } = require("../dist/cjs/cctoken.cjs");

module.exports = { ConfidentialClient, adminConsentUrl, scopeForResource };
