// @ts-self-types="./index.d.ts"
// Entry for JSR (`deno add jsr:@cctoken/cctoken`). JSR serves modules over https, where the
// npm entry's synchronous file read cannot reach the wasm: a source-phase import makes it part
// of the module graph instead, so Deno downloads, checksums (deno.lock) and caches it with the
// code, `deno compile` embeds it, and loading it needs no --allow-read or --allow-net.
import source wasmModule from "../dist/web/cctoken_bg.wasm";
import { ConfidentialClient as WasmConfidentialClient, clientCredentialErrorClass, initSync } from "../dist/web/cctoken.js";
import { withFastPath } from "./fast-path.mjs";
import { withoutPersistentCache } from "./no-persistent-cache.mjs";

initSync({ module: wasmModule });

// The class the wasm makes its errors with (src/js/host_bridge.mjs).
export const ClientCredentialError = clientCredentialErrorClass();
export const ConfidentialClient = withFastPath(
  withoutPersistentCache(WasmConfidentialClient, ClientCredentialError, 'is not available from the JSR package: import "npm:cctoken" for tokens kept in a file across processes'),
);
export { BrokerClient, adminConsentUrl, loadConfigFile, scopeForResource } from "../dist/web/cctoken.js";
