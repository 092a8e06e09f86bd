// Entry for Cloudflare Workers (workerd) and other bundler-based edge runtimes: the bundler
// (wrangler, esbuild) turns the .wasm import into a compiled WebAssembly.Module.
import wasmModule from "../dist/web/cctoken_bg.wasm";
import { initSync } from "../dist/web/cctoken.js";

initSync({ module: wasmModule });

export { BrokerClient, ConfidentialClient, adminConsentUrl, loadConfigFile, scopeForResource } from "../dist/web/cctoken.js";
export { ClientCredentialError } from "./errors.mjs";
