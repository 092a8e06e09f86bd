/** A client secret credential. */
export interface ClientSecretCredential {
  /** The secret's value (not its id) from the app registration's "Certificates & secrets". */
  clientSecret: string;
}

/** Options of {@link ConfidentialClient}. */
export interface ConfidentialClientOptions {
  /** The Application (client) ID of the app registration. */
  clientId: string;
  /**
   * The authority: cloud instance and tenant, e.g.
   * `https://login.microsoftonline.com/<tenant id or domain>`. Must be https, except for
   * loopback hosts (127.0.0.1, localhost, [::1]). `common`, `organizations` and `consumers`
   * are rejected: app-only tokens come from one tenant.
   */
  authority: string;
  /** How the app proves its identity. */
  credential: ClientSecretCredential;
  /** A fetch-compatible function; defaults to `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** What {@link ConfidentialClient.acquireTokenForClient} asks for. */
export interface ClientCredentialRequest {
  /** Scopes, e.g. `["https://graph.microsoft.com/.default"]`. */
  scopes: string[];
}

/** A token, from the cache or freshly issued. */
export interface AuthenticationResult {
  /** The access token, for `Authorization: Bearer <accessToken>`. */
  accessToken: string;
  /** The token type, `Bearer` for Entra ID. */
  tokenType: string;
  /** When the token expires. */
  expiresOn: Date;
  /** True when served from the in-memory cache without a request. */
  fromCache: boolean;
}

/**
 * Errors thrown (constructor) or rejected (acquireTokenForClient) by cctoken are `Error`s
 * named `ClientCredentialError` with these properties. Messages never contain secrets.
 */
export interface ClientCredentialErrorFields {
  name: "ClientCredentialError";
  /**
   * `invalid_config`, `invalid_authority`, `invalid_scope`, `network_error`,
   * `invalid_response`, or the identity provider's OAuth2 `error` such as `invalid_client`.
   */
  code: string;
  /** The option at fault, for configuration errors, e.g. `clientId`. */
  field?: string;
  /** HTTP status of the identity provider's error response. */
  status?: number;
  /** Entra's `error_codes`, e.g. `[7000215]` for a wrong secret. */
  errorCodes?: number[];
  /** Entra's `trace_id`. */
  traceId?: string;
  /** Entra's `correlation_id`. */
  correlationId?: string;
}

/** Acquires app-only tokens with the OAuth2 client-credentials grant, cached per scope set. */
export declare class ConfidentialClient {
  /** @throws {Error & ClientCredentialErrorFields} when an option is missing or malformed. */
  constructor(options: ConfidentialClientOptions);
  /** A cached token while it has more than 5 minutes left; otherwise a new one. */
  acquireTokenForClient(request: ClientCredentialRequest): Promise<AuthenticationResult>;
  /** Forgets every cached token. */
  clearCache(): void;
  /** Releases the wasm memory held by this client. */
  free(): void;
}
