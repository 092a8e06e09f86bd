// Scripted faults: how the local token endpoint misbehaves when told to. One fault answers one
// token request, after its body has been read and the request validated as Entra would
// (method, tenant, grant, scope, client authentication with the assertion checks): a request
// the endpoint refuses gets its error and leaves the fault for the next one. Every field is
// optional:
//
//   beforeValidation  play the fault for the next token request whatever it is, before any
//                   check (for clients that are meant to send a request the endpoint refuses)
//   status          HTTP status (default 200)
//   headers         response headers; they replace the defaults by name (content-type
//                   `application/json; charset=utf-8`, cache-control `no-store`)
//   body            a string, a Buffer, or anything else sent as JSON (default `{}`)
//   token           instead of `body`: a real token response (status 200 unless given) with
//                   these fields overridden; a field set to `undefined` is left out
//   bodyBytes       instead of `body`: this many bytes of a JSON-looking body, streamed in 64 KiB
//                   chunks with backpressure, stopping as soon as the client goes away
//   gzip            send the body gzip-compressed (`content-encoding: gzip`)
//   declareLength   send `content-length` (of the bytes on the wire); otherwise the body is
//                   chunked. A reset or stall below still declares the whole length.
//   resetAfterBytes send the status, the headers and this many body bytes, then drop the
//                   connection (a reset mid-body)
//   stallAfterBytes send the status, the headers and this many body bytes, then nothing more
//   until           a promise: nothing is sent before it settles (a gate the test releases)
//   hang            never answer at all (the endpoint's close() still drops the connection)
//   reset           drop the connection before answering
//
// The request's record gets `status` (or "hang" / "reset"), `fault` (what was played),
// `bytesSent` (body bytes handed to the socket), `completed` (the whole body was sent) and,
// for `token`, the `accessToken` sent.
import { Buffer } from "node:buffer";
import { gzipSync } from "node:zlib";
import { issueAccessToken } from "./access-token.mjs";

const CHUNK_BYTES = 64 * 1024;

/** Plays `fault` as the answer to `req`; `context` names the app, tenant and resource asked for. */
export async function playFault(fault, req, res, record, context) {
  record.fault = describeFault(fault);
  record.bytesSent = 0;
  record.completed = false;
  if (fault.until) {
    record.status = "held";
    await fault.until;
  }
  if (fault.hang) {
    record.status = "hang";
    return;
  }
  if (fault.reset) {
    record.status = "reset";
    res.socket.destroy();
    return;
  }
  const status = fault.status ?? 200;
  record.status = status;
  const body = encodeBody(fault, { ...context, record });
  const headers = {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store, no-cache",
    ...(fault.gzip ? { "content-encoding": "gzip" } : {}),
    ...(fault.declareLength ? { "content-length": body.length } : {}),
    ...(fault.headers ?? {}),
  };
  res.writeHead(status, headers);
  const cut = fault.resetAfterBytes ?? fault.stallAfterBytes;
  if (cut !== undefined) {
    const partial = body.subarray(0, cut);
    record.bytesSent = partial.length;
    // Flushed before the connection drops, so the client sees a body that breaks off.
    res.write(partial, () => {
      if (fault.resetAfterBytes !== undefined) res.socket?.destroy();
    });
    return;
  }
  await streamBody(res, record, body);
}

/** What a fault does, in a few words, for test failure messages. */
function describeFault(fault) {
  if (fault.hang) return fault.beforeValidation ? "hang, before validation" : "hang";
  if (fault.reset) return "reset";
  const parts = [String(fault.status ?? 200)];
  if (fault.token) parts.push("token");
  if (fault.bodyBytes !== undefined) parts.push(`${fault.bodyBytes} bytes`);
  if (fault.gzip) parts.push("gzip");
  if (fault.resetAfterBytes !== undefined) parts.push(`reset after ${fault.resetAfterBytes}`);
  if (fault.stallAfterBytes !== undefined) parts.push(`stall after ${fault.stallAfterBytes}`);
  if (fault.beforeValidation) parts.push("before validation");
  return parts.join(", ");
}

const bombs = new Map();

/** The body as bytes on the wire (compressed when asked). */
function encodeBody(fault, context) {
  if (fault.bodyBytes !== undefined && fault.gzip) {
    // Compressed once per size: a few kilobytes that inflate to `bodyBytes`.
    if (!bombs.has(fault.bodyBytes)) bombs.set(fault.bodyBytes, gzipSync(paddedJson(fault.bodyBytes)));
    return bombs.get(fault.bodyBytes);
  }
  let raw;
  if (fault.bodyBytes !== undefined) raw = paddedJson(fault.bodyBytes);
  else if (fault.token) {
    const body = tokenBody(fault.token, context);
    context.record.accessToken = body.access_token;
    raw = Buffer.from(JSON.stringify(body));
  }
  else if (Buffer.isBuffer(fault.body)) raw = fault.body;
  else if (typeof fault.body === "string") raw = Buffer.from(fault.body);
  else raw = Buffer.from(JSON.stringify(fault.body ?? {}));
  return fault.gzip ? gzipSync(raw) : raw;
}

/** `{"padding":"xxx…"}` of exactly `size` bytes (at least 14). */
function paddedJson(size) {
  const body = Buffer.alloc(Math.max(size, 14), "x");
  body.write('{"padding":"', 0);
  body.write('"}', body.length - 2);
  return body;
}

function tokenBody(overrides, { tenant, clientId, resource }) {
  const body = {
    token_type: "Bearer",
    expires_in: 3599,
    ext_expires_in: 3599,
    access_token: issueAccessToken({ tenant, clientId, resource, lifetimeSeconds: 3599 }),
    ...overrides,
  };
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
}

/** Writes `body` in chunks, waiting for the socket to drain; stops when the client leaves. */
async function streamBody(res, record, body) {
  for (let at = 0; at < body.length; at += CHUNK_BYTES) {
    if (res.destroyed || res.socket?.destroyed) return;
    const chunk = body.subarray(at, at + CHUNK_BYTES);
    const drained = res.write(chunk);
    record.bytesSent += chunk.length;
    if (!drained) {
      await new Promise((resolve) => {
        const done = () => {
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.on("drain", done);
        res.on("close", done);
      });
    }
  }
  if (res.destroyed || res.socket?.destroyed) return;
  res.end();
  record.completed = true;
}
