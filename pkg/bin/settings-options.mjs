// The options `token` and `doctor` share (parseArgs form): where the app's settings come from,
// the scopes, the token cache, the output. Each command adds its own.
export const SETTINGS_OPTIONS = Object.freeze({
  scope: { type: "string", multiple: true },
  config: { type: "string" },
  tenant: { type: "string" },
  "client-id": { type: "string" },
  "client-secret-env": { type: "string" },
  certificate: { type: "string" },
  "authority-host": { type: "string" },
  json: { type: "boolean" },
  "no-cache": { type: "boolean" },
  help: { type: "boolean", short: "h" },
});
