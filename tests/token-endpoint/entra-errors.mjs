// Error responses shaped exactly like the Entra ID v2 token endpoint's, so clients are
// tested against the fields they will see in production.
import { randomUUID } from "node:crypto";

/** Entra's error catalogue for the mistakes the local endpoint checks. */
export const ENTRA_ERRORS = {
  tenantNotFound: (tenant) => ({
    status: 400,
    error: "invalid_request",
    code: 90002,
    text: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  }),
  postOnly: () => ({
    status: 405,
    error: "invalid_request",
    code: 900561,
    text: "The endpoint only accepts POST requests. Received a GET request.",
  }),
  missingParameter: (name) => ({
    status: 400,
    error: "invalid_request",
    code: 900144,
    text: `The request body must contain the following parameter: '${name}'.`,
  }),
  unsupportedGrantType: () => ({
    status: 400,
    error: "unsupported_grant_type",
    code: 70003,
    text: "The app requested an unsupported grant type.",
  }),
  unknownClient: (clientId, tenant) => ({
    status: 400,
    error: "unauthorized_client",
    code: 700016,
    text: `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
  }),
  invalidScope: (scope) => ({
    status: 400,
    error: "invalid_scope",
    code: 70011,
    text: `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
  }),
  missingCredential: () => ({
    status: 401,
    error: "invalid_client",
    code: 7000216,
    text: "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
  }),
  multipleCredentials: () => ({
    status: 400,
    error: "invalid_request",
    code: 90014,
    text: "The request contains more than one client credential: use one of client_secret, client_assertion or HTTP Basic.",
  }),
  unsupportedAssertionType: () => ({
    status: 400,
    error: "invalid_request",
    code: 700003,
    text: "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
  }),
  malformedAssertion: (why) => ({
    status: 400,
    error: "invalid_client",
    code: 50027,
    text: `Invalid JWT token. ${why}`,
  }),
  unknownAssertionKey: (thumbprint) => ({
    status: 401,
    error: "invalid_client",
    code: 700027,
    text: `Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}']`,
  }),
  badAssertionSignature: () => ({
    status: 401,
    error: "invalid_client",
    code: 7000274,
    text: "Key was found, but use of the key to verify the signature failed.",
  }),
  assertionSubjectMismatch: () => ({
    status: 401,
    error: "invalid_client",
    code: 700021,
    text: "Client assertion application identifier doesn't match 'client_id' parameter.",
  }),
  assertionAudience: (audience) => ({
    status: 401,
    error: "invalid_client",
    code: 50013,
    text: `Assertion audience claim does not match the required value. The audience in the assertion was '${audience}'.`,
  }),
  assertionTimeWindow: () => ({
    status: 401,
    error: "invalid_client",
    code: 700024,
    text: "Client assertion is not within its valid time range.",
  }),
  assertionReplayed: () => ({
    status: 401,
    error: "invalid_client",
    code: 700210,
    text: "The client assertion was already used: its jti has been seen before.",
  }),
  wrongSecret: (clientId) => ({
    status: 401,
    error: "invalid_client",
    code: 7000215,
    text: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
  }),
};

/** The JSON body Entra sends for an error: AADSTS code, trace and correlation ids. */
export function entraErrorBody({ error, code, text }, now = new Date()) {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = now.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  return {
    error,
    error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  };
}
