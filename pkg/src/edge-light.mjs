// Entry for Vercel edge functions and Next.js edge routes/middleware (export condition
// "edge-light"). Their bundlers (Next's webpack, Vercel's esbuild) turn a `.wasm?module` import
// into a compiled WebAssembly.Module, the only form the edge runtime accepts: it has no fs to
// read the bytes and refuses to compile WebAssembly at run time. No Node built-in is imported.
import wasmModule from "../dist/web/cctoken_bg.wasm?module";
import { ConfidentialClient as WasmConfidentialClient, clientCredentialErrorClass, initSync } from "../dist/web/cctoken.js";
import { withFastPath } from "./fast-path.mjs";
import { withoutPersistentCache } from "./no-persistent-cache.mjs";

// Next's and Vercel's local sandboxes (`next dev`, `next start`, `vercel dev`) compile the
// module in Node's realm and run the function in a vm context: the Module is genuine (V8 checks
// its internal type, not its prototype) but fails the glue's `instanceof WebAssembly.Module`, and
// the glue would then try to compile it as bytes. Production edge isolates have one realm.
if (!(wasmModule instanceof WebAssembly.Module) && isCompiledModule(wasmModule)) {
  Object.setPrototypeOf(wasmModule, WebAssembly.Module.prototype);
}
initSync({ module: wasmModule });

// The class the wasm makes its errors with (src/js/host_bridge.mjs).
export const ClientCredentialError = clientCredentialErrorClass();
export const ConfidentialClient = withFastPath(withoutPersistentCache(WasmConfidentialClient, ClientCredentialError));
export { BrokerClient, adminConsentUrl, loadConfigFile, scopeForResource } from "../dist/web/cctoken.js";

function isCompiledModule(value) {
  try {
    WebAssembly.Module.exports(value);
    return true;
  } catch {
    return false;
  }
}
