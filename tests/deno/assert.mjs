// The few assertions the Deno tests need, from Node's assert (Deno supports node: modules),
// so the tests need no download from a Deno registry.
import nodeAssert from "node:assert/strict";

export const assert = (value, message) => nodeAssert.ok(value, message);
export const assertEquals = (actual, expected) => nodeAssert.deepEqual(actual, expected);
export const assertMatch = (actual, pattern) => nodeAssert.match(actual, pattern);
