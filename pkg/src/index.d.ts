/** A client secret. */
export interface ClientSecretCredential {
  /** The secret's value (not its id) from the app registration's "Certificates & secrets". */
  clientSecret: string;
}

/** A private key signing a fresh client assertion (RFC 7523) for every token request. */
export interface CertificateCredential {
  certificate: {
    /**
     * PEM private key: PKCS#8 (`BEGIN PRIVATE KEY`), PKCS#1 (`BEGIN RSA PRIVATE KEY`) or SEC1
     * (`BEGIN EC PRIVATE KEY`, P-256). May also hold the certificate (a combined PEM).
     * Password-encrypted keys are not supported.
     */
    privateKeyPem: string;
    /** PEM certificate chain, leaf first. Its thumbprint tells Entra which key signed. */
    certificatePem?: string;
    /** SHA-1 thumbprint (hex) instead of the certificate; implies RS256 (`x5t` header). */
    thumbprint?: string;
    /** SHA-256 thumbprint (hex) instead of the certificate (`x5t#S256` header). */
    thumbprintSha256?: string;
    /** Send the chain as `x5c`, for subject name / issuer authentication. */
    sendX5c?: boolean;
    /**
     * `PS256` (default for RSA; `x5t#S256`), `RS256` (ADFS and older tenants; `x5t`), or
     * `ES256` (default for EC keys).
     */
    algorithm?: "PS256" | "RS256" | "ES256";
    /** `kid` header, for OAuth2 servers that identify keys by id. */
    keyId?: string;
  };
}

/** What a client assertion callback is told. */
export interface AssertionContext {
  clientId: string;
  /** The token endpoint URL, without query parameters. */
  tokenEndpoint: string;
}

/** A ready-made client assertion (federated credentials, workload identity). */
export interface ClientAssertionCredential {
  /** A signed JWT, or a function called whenever a token must be fetched. */
  clientAssertion: string | ((context: AssertionContext) => string | Promise<string>);
}

/**
 * Options of {@link ConfidentialClient}. Give exactly one of `authority`, `tenantId` or
 * `tokenEndpoint`. Unknown option names (here, in `credential` and in `certificate`) are
 * refused with code `invalid_config`; only the object's own properties are read, so nothing
 * inherited from `Object.prototype` is ever used.
 */
export interface ConfidentialClientOptions {
  /** The Application (client) ID of the app registration. */
  clientId: string;
  /**
   * Cloud instance and tenant, e.g. `https://login.microsoftonline.com/<tenant id or domain>`.
   * https only (loopback `http://127.0.0.1`, `localhost`, `[::1]` excepted); `common`,
   * `organizations` and `consumers` are rejected: app-only tokens come from one tenant.
   */
  authority?: string;
  /** The tenant id or domain, with {@link authorityHost}. */
  tenantId?: string;
  /**
   * The cloud, with {@link tenantId}: `https://login.microsoftonline.com` (default),
   * `https://login.microsoftonline.us` (US Gov), `https://login.chinacloudapi.cn` (China).
   */
  authorityHost?: string;
  /** Any OAuth2 token endpoint (Auth0, Keycloak, Okta, …); Entra's scope rules are then not applied. */
  tokenEndpoint?: string;
  /** Query parameters added to the token endpoint URL, e.g. `{ dc: "ESTS-PUB-WUS2-AZ1-FD000-TEST1" }`. */
  extraQueryParameters?: Record<string, string>;
  /** How the app proves its identity. */
  credential: ClientSecretCredential | CertificateCredential | ClientAssertionCredential;
  /** Where a client secret goes: the body (default) or HTTP Basic (RFC 6749 §2.3.1). */
  clientAuthMethod?: "client_secret_post" | "client_secret_basic";
  /** `aud` of signed assertions instead of the token endpoint URL (e.g. a server's issuer). */
  assertionAudience?: string;
  /** Stop serving a cached token this many seconds before it expires (default 300). */
  expiryBufferSeconds?: number;
  /** Most scope sets kept in memory; the least recently used is evicted (default 1000). */
  maxCacheEntries?: number;
  /** Retries after the first attempt, for network errors, 500/502/503/504 and 429: 0 to 10 (default 2). */
  maxRetries?: number;
  /** Longest wait for one attempt, in ms: a whole number from 1 to 600000 (default 10000). */
  attemptTimeoutMs?: number;
  /** Longest time for a whole acquisition including retries, in ms: 1 to 3600000 (default 30000). */
  totalTimeoutMs?: number;
  /**
   * Client capabilities, e.g. `["cp1"]` for continuous access evaluation (CAE): sent with every
   * token request as the claims request `{"access_token":{"xms_cc":{"values":["cp1"]}}}`, and
   * merged with a request's `claims` challenge (which must then be a JSON object). Resources
   * that support CAE then issue long-lived tokens they can revoke with a claims challenge,
   * which `callApi` answers. Each 1 to 64 letters, digits, `_`, `-` or `.`; at most 16.
   */
  clientCapabilities?: string[];
  /**
   * Clouds besides the client's own that a request's `authority` may name, written as
   * `authorityHost` is (e.g. `["https://login.microsoftonline.us"]`): the credential is sent to
   * them too. Default: none, so a per-request authority stays on the client's cloud.
   */
  allowedAuthorityHosts?: string[];
  /** Called when a background refresh fails; callers keep getting the cached token meanwhile. */
  onRefreshError?: (error: ClientCredentialError) => void;
  /** A fetch-compatible function; defaults to `globalThis.fetch`. */
  fetch?: typeof fetch;
  /**
   * Keep tokens across processes (Node, Deno, Bun; refused in Workers): loaded once before the
   * first acquisition, written after each call answered by the identity provider. See {@link PersistentCacheOptions}.
   */
  persistentCache?: PersistentCacheOptions;
}

/**
 * Tokens kept on disk, one file per app (token endpoint, client id and credential), mode 0600
 * in a 0700 directory, AES-256-GCM encrypted with a key derived (HKDF-SHA-256) from the client
 * secret or private key: only a holder of the credential can read or forge it. A federated
 * credential (`clientAssertion`) has no stable secret: nothing is written. A file that does not
 * open (corrupt, foreign, another key) is ignored and replaced; a cache that cannot be written
 * only costs a token request. Read before the first `acquireTokenForClient`,
 * `getAuthorizationHeader` or `callApi`, written after one that got a new token.
 * Node, Deno and Bun only: the Workers, `edge-light` (Vercel edge) and JSR entries refuse it
 * with `invalid_config` (no file system there). Threat model: SECURITY.md.
 */
export interface PersistentCacheOptions {
  /**
   * The directory (created with mode 0700). Default: `CCTOKEN_CACHE_DIR`, else
   * `$XDG_CACHE_HOME/cctoken`, else `$HOME/.cache/cctoken`; with none of them set, no file.
   * A directory that is a symlink, owned by another user, or writable by group or others is
   * not used (no error: no cache).
   */
  directory?: string;
}

/**
 * What {@link ConfidentialClient.acquireTokenForClient} asks for. Any other field is refused
 * with code `invalid_config` (naming it and the closest known field), so a misspelt one is
 * never silently ignored. Only the object's own properties are read.
 */
export interface ClientCredentialRequest {
  /**
   * Scopes. For Entra exactly one `<resource>/.default`, e.g.
   * `["https://graph.microsoft.com/.default"]` (see {@link scopeForResource}).
   */
  scopes: string[];
  /** Skip the cache (the new token is still cached). */
  forceRefresh?: boolean;
  /** A claims challenge (JSON) from a resource's `WWW-Authenticate`; bypasses the cache. */
  claims?: string;
  /** The `client-request-id` sent to Entra; a UUID is generated when absent. */
  correlationId?: string;
  /** Extra form parameters appended to the request body. */
  extraBodyParameters?: Record<string, string>;
  /**
   * Another tenant for this request only (MSAL.NET's `WithTenantId`): a multi-tenant daemon's
   * customer tenant, on the client's cloud. Tokens are cached, shared and refreshed per
   * tenant: a GUID or a DNS name of at most 253 characters (`.`, `..` and `_` are refused).
   * `common`, `organizations` and `consumers` are refused (`invalid_authority`), and
   * so is any tenant with a client configured with `tokenEndpoint` or `assertionAudience`.
   */
  tenantId?: string;
  /**
   * Another authority for this request only (msal-node's per-request `authority`),
   * `https://<cloud>/<tenant>`: held to the client's rules, and its cloud must be the client's
   * or listed in {@link ConfidentialClientOptions.allowedAuthorityHosts}. Not with {@link tenantId}.
   */
  authority?: string;
  /** Cancels the wait (the promise rejects with code `aborted`). */
  abortSignal?: AbortSignal;
  /** The web platform's name for {@link abortSignal}; give one of them (or the same signal to both). */
  signal?: AbortSignal;
}

/**
 * A token, from the cache or freshly issued. Frozen: repeated cache hits hand every caller the
 * same object, so treat its `Date`s as read-only too.
 */
export interface AuthenticationResult {
  /** The access token, for `Authorization: Bearer <accessToken>`. */
  readonly accessToken: string;
  /** The token type, `Bearer` for Entra ID. */
  readonly tokenType: string;
  /** When the token expires. */
  readonly expiresOn: Date;
  /** When the token stops working even while Entra is degraded (`ext_expires_in`). */
  readonly extExpiresOn: Date;
  /** When the client refreshes it in the background (from `refresh_in`, or half of lifetimes ≥ 2 h). */
  readonly refreshOn?: Date;
  /** The scopes requested. */
  readonly scopes: readonly string[];
  /** True when no request was sent for this call. */
  readonly fromCache: boolean;
  /** The `client-request-id` of the request that fetched the token (or the caller's). */
  readonly correlationId?: string;
  /** The tenant, for Entra authorities. */
  readonly tenantId?: string;
}

/** The codes of {@link ClientCredentialError}; identity-provider errors use the provider's own OAuth2 `error`. */
export type ClientCredentialErrorCode =
  | "invalid_config"
  | "invalid_authority"
  | "invalid_scope"
  | "network_error"
  | "timeout"
  | "aborted"
  | "throttled"
  | "invalid_response"
  | "crypto_error"
  | "invalid_client"
  | "invalid_request"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "server_error"
  | "temporarily_unavailable"
  | "http_error"
  | "insufficient_privileges"
  /** The cctoken broker's: the caller is not granted the request's {@link BrokerTokenRequest.tenant}. */
  | "tenant_not_granted"
  | (string & {});

/**
 * Every failure: thrown by the constructor, rejected by `acquireTokenForClient`. Messages
 * never contain secrets or tokens. `instanceof` works for errors from the ESM and CommonJS
 * entries alike.
 */
export declare class ClientCredentialError extends Error {
  name: "ClientCredentialError";
  code: ClientCredentialErrorCode;
  /**
   * Whether trying again later may succeed: no response, a timeout, throttling, or a 429 or
   * 5xx reply that is not an OAuth2 refusal. False for configuration mistakes and refusals.
   */
  transient: boolean;
  /** The option at fault, for configuration errors, e.g. `clientId`. */
  field?: string;
  /** How to fix it, e.g. which scope to request instead. */
  hint?: string;
  /** HTTP status of the identity provider's reply. */
  status?: number;
  /** AADSTS numbers, e.g. `[7000215]` for a wrong secret. */
  aadsts?: number[];
  /** The provider's `error_description`. */
  description?: string;
  /** The request's `client-request-id`. */
  correlationId?: string;
  /** Entra's `trace_id`. */
  traceId?: string;
  /** Entra's `timestamp`. */
  timestamp?: string;
  /** Milliseconds to wait before trying again, when known (throttling). */
  retryAfter?: number;
}

/**
 * Acquires app-only tokens with the OAuth2 client-credentials grant: cached per scope set,
 * one request shared by concurrent callers, refreshed in the background, retried on
 * transient failures.
 */
export declare class ConfidentialClient {
  /** @throws {ClientCredentialError} when an option is missing or malformed. */
  constructor(options: ConfidentialClientOptions);
  /** A cached token while it has more than `expiryBufferSeconds` left; otherwise a new one. */
  acquireTokenForClient(request: ClientCredentialRequest): Promise<AuthenticationResult>;
  /**
   * A client from the environment, with @azure/identity's names and precedence:
   * `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, then `AZURE_CLIENT_SECRET`, or
   * `AZURE_CLIENT_CERTIFICATE_PATH` (PEM with key and certificate; plus
   * `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`), or `AZURE_FEDERATED_TOKEN_FILE` (read afresh for
   * every token request); `AZURE_AUTHORITY_HOST`. Works with `process.env` and `Deno.env`.
   * @param overrides options merged over the ones built from the environment.
   */
  static fromEnvironment(overrides?: Partial<ConfidentialClientOptions>): ConfidentialClient;
  /**
   * A client from an ASP.NET `appsettings.json` (`AzureAd` section; `//` comments allowed) or
   * an MSAL Python config (`authority`, `client_id`, `secret` or `private_key_file` with
   * `thumbprint`/`public_certificate`).
   */
  static fromConfigFile(path: string, options?: { persistentCache?: PersistentCacheOptions }): ConfidentialClient;
  /** `"Bearer <token>"`, for an `Authorization` header. */
  getAuthorizationHeader(request: ClientCredentialRequest): Promise<string>;
  /**
   * Calls a protected web API with the token. On a 401 carrying a claims challenge it gets a
   * token with those claims and retries once; a 403 for missing application permissions
   * (Graph's `Authorization_RequestDenied`) rejects with code `insufficient_privileges` and
   * a hint holding the admin-consent URL. Resolves with the API's `Response` otherwise.
   * The abort signal cancels the API call too; other `RequestInit` fields are refused.
   */
  callApi(url: string, init: ClientCredentialRequest & { method?: string; headers?: HeadersInit; body?: BodyInit | null }): Promise<Response>;
  /** Forgets every cached token. */
  clearCache(): void;
  /** The fresh cached tokens as versioned JSON. It holds access tokens: store it as a secret. */
  serializeCache(): string;
  /** Loads what {@link serializeCache} wrote; returns how many fresh tokens were loaded. */
  deserializeCache(json: string): number;
  /** Releases the wasm memory held by this client. */
  free(): void;
}

/** A {@link BrokerClient.acquireToken} request: the fields of the broker's JSON body, and the abort signal. */
export interface BrokerTokenRequest extends Pick<ClientCredentialRequest, "scopes" | "forceRefresh" | "abortSignal" | "signal"> {
  /**
   * Another tenant than the broker app's own, one of the caller's `tenants` in `BROKER_CLIENTS`:
   * a tenant id (GUID) or verified domain, never `common`, `organizations` or `consumers`
   * (refused before sending, `code` `invalid_authority`, `field` `"tenant"`). Named as in the
   * broker's body, so not `tenantId`. Sent as the form's `tenant`; tokens are cached and
   * coalesced per tenant. A tenant not granted rejects with `code` `tenant_not_granted`
   * (`status` 403, `transient` false).
   */
  tenant?: string;
}

/**
 * Tokens from a cctoken Worker broker (see the README): the job holds a broker key, not the
 * app's credential. Cached until a minute before expiry, concurrent calls coalesced.
 */
export declare class BrokerClient {
  constructor(options: { url: string; callerId: string; key: string; fetch?: typeof fetch });
  /** `forceRefresh` makes the broker skip its caches too (within its `forceRefreshPerMinute` budget). */
  acquireToken(request: BrokerTokenRequest): Promise<AuthenticationResult>;
  clearCache(): void;
  free(): void;
}

/**
 * The `.default` scope of a resource: `https://graph.microsoft.com` →
 * `https://graph.microsoft.com/.default`; v1 resources ending in a slash keep it:
 * `https://database.windows.net/` → `https://database.windows.net//.default`.
 */
export declare function scopeForResource(resource: string): string;

/** What {@link ConfidentialClient.fromConfigFile} would use, and the scopes the file names. */
export declare function loadConfigFile(path: string): { options: ConfidentialClientOptions; scopes: string[] };

/** The URL an administrator opens to grant the app's application permissions in a tenant. */
export declare function adminConsentUrl(options: { tenant: string; clientId: string; authorityHost?: string }): string;
