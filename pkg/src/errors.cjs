"use strict";
// Errors from cctoken are created inside the wasm as plain `Error`s named
// "ClientCredentialError". This class makes `error instanceof ClientCredentialError` work for
// them, and does so for the ESM and CommonJS copies of the package alike (no dual-package
// hazard), because it recognises errors by name rather than by prototype.
class ClientCredentialError extends Error {
  static [Symbol.hasInstance](value) {
    return value instanceof Error && value.name === "ClientCredentialError";
  }
}

module.exports = { ClientCredentialError };
