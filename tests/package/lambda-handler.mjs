// The README's AWS Lambda handler: a module-scope client built once per execution environment
// from the function's environment variables, reused by every invocation it serves.
import { ConfidentialClient } from "cctoken";

const client = ConfidentialClient.fromEnvironment();

export const handler = async () => {
  const response = await client.callApi(process.env.API_URL, { scopes: [process.env.API_SCOPE] });
  return { statusCode: response.status, body: await response.text() };
};
