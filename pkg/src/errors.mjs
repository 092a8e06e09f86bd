// Errors from cctoken are created inside the wasm as plain `Error`s named
// "ClientCredentialError". This class makes `error instanceof ClientCredentialError` work for
// them, and for errors from the CommonJS copy of the package too (no dual-package hazard),
// because it recognises errors by name rather than by prototype.
export class ClientCredentialError extends Error {
  static [Symbol.hasInstance](value) {
    return value instanceof Error && value.name === "ClientCredentialError";
  }
}
