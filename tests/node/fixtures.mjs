// Test keys and certificates (tests/fixtures), read once.
import { readFileSync } from "node:fs";

const read = (name) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8");

export const FIXTURES = {
  rsaKey: read("rsa-pkcs8.key.pem"),
  rsaKeyPkcs1: read("rsa-pkcs1.key.pem"),
  rsaCert: read("rsa.cert.pem"),
  ecKey: read("ec-pkcs8.key.pem"),
  ecKeySec1: read("ec-sec1.key.pem"),
  ecCert: read("ec.cert.pem"),
  otherKey: read("other-rsa.key.pem"),
  otherCert: read("other-rsa.cert.pem"),
  encryptedKey: read("rsa-encrypted.key.pem"),
};
