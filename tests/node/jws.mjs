// Signs client assertions with the fixture keys through WebCrypto, as a federated identity
// provider or a hand-rolled client would: for tests that need an assertion the npm module did
// not make (a deliberately bad one, or a federated token file).
import { Buffer } from "node:buffer";
import { FIXTURES } from "./fixtures.mjs";

const pkcs8 = (pem) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
const ALGORITHMS = {
  ES256: { pem: () => FIXTURES.ecKey, importAs: { name: "ECDSA", namedCurve: "P-256" }, signAs: { name: "ECDSA", hash: "SHA-256" } },
  PS256: { pem: () => FIXTURES.rsaKey, importAs: { name: "RSA-PSS", hash: "SHA-256" }, signAs: { name: "RSA-PSS", saltLength: 32 } },
  RS256: { pem: () => FIXTURES.rsaKey, importAs: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, signAs: { name: "RSASSA-PKCS1-v1_5" } },
};

/** A compact JWS over `claims` with `header` (`typ: "JWT"` added), signed with the fixture key for `header.alg`. */
export async function signJws(header, claims) {
  const { pem, importAs, signAs } = ALGORITHMS[header.alg];
  const key = await crypto.subtle.importKey("pkcs8", pkcs8(pem()), importAs, false, ["sign"]);
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${part({ typ: "JWT", ...header })}.${part(claims)}`;
  const signature = await crypto.subtle.sign(signAs, key, Buffer.from(input));
  return `${input}.${Buffer.from(signature).toString("base64url")}`;
}

/** Seconds since the epoch, as JWT times are. */
export const nowSeconds = () => Math.floor(Date.now() / 1000);
