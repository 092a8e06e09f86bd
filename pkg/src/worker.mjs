// Entry for Cloudflare Workers (workerd) and other bundler-based edge runtimes: the bundler
// (wrangler, esbuild) turns the .wasm import into a compiled WebAssembly.Module.
import wasmModule from "../dist/web/cctoken_bg.wasm";
import { ConfidentialClient as WasmConfidentialClient, clientCredentialErrorClass, initSync } from "../dist/web/cctoken.js";
import { withFastPath } from "./fast-path.mjs";
import { withoutPersistentCache } from "./no-persistent-cache.mjs";

initSync({ module: wasmModule });

// The class the wasm makes its errors with (src/js/host_bridge.mjs).
export const ClientCredentialError = clientCredentialErrorClass();
export const ConfidentialClient = withFastPath(withoutPersistentCache(WasmConfidentialClient, ClientCredentialError));
export { BrokerClient, adminConsentUrl, loadConfigFile, scopeForResource } from "../dist/web/cctoken.js";

