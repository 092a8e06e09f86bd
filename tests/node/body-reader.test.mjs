// The one capped body reader (readCapped in src/js/host_bridge.mjs), as the package ships it
// inside the wasm glue: it reads the token endpoint's replies in the npm module and the
// Worker, and the callers' request bodies in the Worker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const snippets = new URL("../../node_modules/cctoken/dist/web/snippets/", import.meta.url);
const [crate] = readdirSync(fileURLToPath(snippets));
const { readCapped, readableLength } = await import(new URL(`${crate}/src/js/host_bridge.mjs`, snippets));

/** A body offered in `chunks`, counting how many the reader pulled and whether it cancelled. */
function offered(chunks) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream(
    {
      pull(controller) {
        if (seen.pulled === chunks.length) return controller.close();
        controller.enqueue(new Uint8Array(chunks[seen.pulled++]).fill(0x61));
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    // Nothing pulled ahead of the reader, so `pulled` counts what it asked for.
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

const read = (chunks, headers, max) => {
  const { stream, seen } = offered(chunks);
  return readCapped(new Response(stream, { headers }), max).then((body) => ({ body, seen }));
};

test("the readable length: content-length, unless a coding other than identity inflates the body", () => {
  const length = (pairs) => readableLength(new Headers(pairs));
  assert.equal(length({ "Content-Length": " 1234 " }), 1234);
  assert.equal(length({ "content-length": "1234", "content-encoding": "Identity" }), 1234);
  for (const coding of ["gzip", "br", "deflate", "gzip, identity"]) {
    assert.equal(length({ "content-length": "20480", "Content-Encoding": coding }), undefined, coding);
  }
  assert.equal(length({}), undefined);
  assert.equal(length({ "content-length": "-1" }), undefined);
  assert.equal(length({ "content-length": "1e6" }), undefined);
});

test("a body without a declared length: kept up to the limit, abandoned past it", async () => {
  const exact = await read([5, 5], {}, 10);
  assert.equal(exact.body.byteLength, 10, "exactly the limit is fine");
  const over = await read([5, 5, 1, 5, 5], {}, 10);
  assert.equal(over.body, null);
  assert.equal(over.seen.pulled, 3, "not read on past the chunk that passed the limit");
  assert.ok(over.seen.cancelled, "the rest is cancelled");
  const oneBigChunk = await read([11], {}, 10);
  assert.equal(oneBigChunk.body, null);
  assert.equal((await readCapped(new Response(null), 10)).byteLength, 0, "no body is empty");
});

test("a declared length: over the limit refused unread, within it read at once", async () => {
  for (const declared of ["17", " 99999999999999999999 "]) {
    const refused = await read([17], { "content-length": declared }, 16);
    assert.equal(refused.body, null, declared);
    assert.equal(refused.seen.pulled, 0, `${declared}: refused unread`);
  }
  const within = await read([8, 8], { "content-length": "16" }, 16);
  assert.equal(within.body.byteLength, 16);
});

test("an unreadable or compressed length is left to the chunked reader", async () => {
  for (const headers of [{ "content-length": "abc" }, { "content-length": "3", "content-encoding": "gzip" }]) {
    const what = JSON.stringify(headers);
    const over = await read([10, 10], headers, 16);
    assert.equal(over.body, null, what);
    assert.equal((await read([3], headers, 16)).body.byteLength, 3, what);
  }
});

test("a request body (the Worker's callers) goes through the same reader", async () => {
  const request = (body, headers = {}) => new Request("http://broker.local/token", { method: "POST", body, headers, duplex: "half" });
  assert.equal((await readCapped(request("x".repeat(16)), 16)).byteLength, 16);
  assert.equal(await readCapped(request("x".repeat(17)), 16), null);
  const { stream, seen } = offered([10, 10, 10]);
  assert.equal(await readCapped(request(stream), 16), null);
  assert.equal(seen.pulled, 2);
});
