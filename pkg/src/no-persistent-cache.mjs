// For entries without the file cache (Workers and Vercel edge have no file system; the JSR
// entry stays free of node: imports, whose types a JSR package would have to declare):
// `persistentCache` is refused by name, with what to use instead, rather than as an unknown option.

/** Why the edge entries refuse `persistentCache`, and what to use instead. */
export const NO_FILE_SYSTEM = "is not available in Workers and other edge runtimes (no file system): remove it; a client at module scope keeps tokens across requests of one isolate, and the cctoken broker keeps them in Workers KV across isolates";

/** The class `Base` refusing `persistentCache` in each of its constructors, saying `why`. */
export function withoutPersistentCache(Base, ClientCredentialError, why = NO_FILE_SYSTEM) {
  const refuse = (options, field) => {
    if (options !== null && typeof options === "object" && Object.hasOwn(options, "persistentCache")) {
      const message = `${field}.persistentCache ${why}`;
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
