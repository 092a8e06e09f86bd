// CommonJS entry for Node: the generated glue reads the wasm synchronously on require.
"use strict";
const { ConfidentialClient, adminConsentUrl, scopeForResource } = require("../dist/cjs/cctoken.cjs");
const { ClientCredentialError } = require("./errors.cjs");

module.exports = { ClientCredentialError, ConfidentialClient, adminConsentUrl, scopeForResource };
