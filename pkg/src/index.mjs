// ESM entry for Node, Deno and Bun: loads the wasm next to the glue, then re-exports the API.
// The bytes are read synchronously so `import` alone is enough; no network access happens here.
import { ConfidentialClient as WasmConfidentialClient, clientCredentialErrorClass, initSync, persistentCacheKeyMaterial } from "../dist/web/cctoken.js";
import { withFastPath } from "./fast-path.mjs";
import { withPersistentCache } from "./persistent-cache.mjs";

// `import … from "node:fs"` builds fs's ESM facade, whose getters load all of node:streams:
// 9 ms of a 19 ms import. The CommonJS module object has no such cost.
const fs = globalThis.process?.getBuiltinModule?.("node:fs") ?? (await import("node:fs"));
initSync({ module: fs.readFileSync(new URL("../dist/web/cctoken_bg.wasm", import.meta.url)) });

// The class the wasm makes its errors with (src/js/host_bridge.mjs).
export const ClientCredentialError = clientCredentialErrorClass();
export const ConfidentialClient = withFastPath(withPersistentCache(WasmConfidentialClient, persistentCacheKeyMaterial, ClientCredentialError));
export { BrokerClient, adminConsentUrl, loadConfigFile, scopeForResource } from "../dist/web/cctoken.js";
