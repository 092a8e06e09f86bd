// @ts-self-types="./index.d.ts"
// Entry for JSR (`deno add jsr:@cctoken/cctoken`). JSR serves modules over https, where the
// npm entry's synchronous file read cannot reach the wasm: a source-phase import makes it part
// of the module graph instead, so Deno downloads, checksums (deno.lock) and caches it with the
// code, `deno compile` embeds it, and loading it needs no --allow-read or --allow-net.
import source wasmModule from "../dist/web/cctoken_bg.wasm";
import { ConfidentialClient as WasmConfidentialClient, clientCredentialErrorClass, initSync } from "../dist/web/cctoken.js";
import { withFastPath } from "./fast-path.mjs";

initSync({ module: wasmModule });

export const ConfidentialClient = withFastPath(WasmConfidentialClient);
export { BrokerClient, adminConsentUrl, loadConfigFile, scopeForResource } from "../dist/web/cctoken.js";
// The class the wasm makes its errors with (src/js/host_bridge.mjs).
export const ClientCredentialError = clientCredentialErrorClass();
