// Entry for Cloudflare Workers (workerd) and other bundler-based edge runtimes: the bundler
// (wrangler, esbuild) turns the .wasm import into a compiled WebAssembly.Module.
import wasmModule from "../dist/web/cctoken_bg.wasm";
import { ConfidentialClient as WasmConfidentialClient, clientCredentialErrorClass, initSync } from "../dist/web/cctoken.js";
import { withFastPath } from "./fast-path.mjs";

initSync({ module: wasmModule });

// The class the wasm makes its errors with (src/js/host_bridge.mjs).
export const ClientCredentialError = clientCredentialErrorClass();
export const ConfidentialClient = withFastPath(withoutPersistentCache(WasmConfidentialClient));
export { BrokerClient, adminConsentUrl, loadConfigFile, scopeForResource } from "../dist/web/cctoken.js";

/**
 * `persistentCache` needs a file system (Node, Deno, Bun): here it is refused by name, with
 * what to use instead, rather than as an unknown option.
 */
function withoutPersistentCache(Base) {
  const refuse = (options, field) => {
    if (options !== null && typeof options === "object" && Object.hasOwn(options, "persistentCache")) {
      const message = `${field}.persistentCache is not available in Workers and other edge runtimes (no file system): remove it; a client at module scope keeps tokens across requests of one isolate, and the cctoken broker keeps them in Workers KV across isolates`;
      throw Object.assign(new ClientCredentialError(message), { code: "invalid_config", transient: false, field: `${field}.persistentCache` });
    }
  };
  return class ConfidentialClient extends Base {
    constructor(options) {
      refuse(options, "options");
      super(options);
    }

    static fromEnvironment(overrides) {
      refuse(overrides, "overrides");
      return super.fromEnvironment(overrides);
    }

    static fromConfigFile(path, options) {
      refuse(options, "options");
      return super.fromConfigFile(path);
    }
  };
}
