// The benchmark: cctoken beside msal-node and @azure/identity, measured in one run against
// one local https token endpoint. Prints a markdown table and writes BENCHMARKS.md.
// Started by `make bench` (bench/run.sh), which installs the peers and the packed cctoken.
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { cpus } from "node:os";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LOCAL_APP, startTokenEndpoint } from "../tests/token-endpoint/server.mjs";
import { measureBroker } from "./worker.mjs";
import { fleetRows, measureFleet } from "./fleet.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const ROOT = join(HERE, "..");
const PEERS = ["@azure/msal-node", "@azure/identity"];
const LIBS = ["cctoken", ...PEERS];
/** Reference clients for the cold acquire (bench/libraries.mjs FLOORS). */
const COLD_FLOORS = ["js floor", "wasm floor", "sans-io core", "core slice"];
const fixture = (name) => readFileSync(join(ROOT, "tests/fixtures", name), "utf8");

const tls = makeTlsCertificate();
const certClientId = "77777777-0000-4000-8000-0000000000c7";
const endpoint = await startTokenEndpoint({
  tls: { key: tls.key, cert: tls.cert },
  clients: {
    [LOCAL_APP.clientId]: { secret: LOCAL_APP.clientSecret },
    [certClientId]: { secret: "cert-app-secret", certificates: [fixture("rsa.cert.pem")] },
  },
});
const settings = {
  url: endpoint.url,
  tenant: LOCAL_APP.tenantId,
  clientId: LOCAL_APP.clientId,
  secret: LOCAL_APP.clientSecret,
  scope: "api://cctoken-bench/.default",
  certClientId,
  certSecret: "cert-app-secret",
  key: fixture("rsa-pkcs8.key.pem"),
  cert: fixture("rsa.cert.pem"),
};

// Asynchronous: the token endpoint lives in this process and must keep answering.
async function measure(library, what) {
  const { stdout } = await promisify(execFile)(process.execPath, [join(HERE, "measure.mjs"), library, what, JSON.stringify(settings)], {
    cwd: HERE,
    env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.certPath },
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1));
}

async function each(libs, what) {
  const results = {};
  for (const lib of libs) results[lib] = await measure(lib, what);
  return results;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs, digits = 1) => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
const rows = [];
const row = (measureName, values) => rows.push([measureName, ...values]);
/** The project's targets (issue 6), each with the measured value and whether it holds. */
const targets = [];
const target = (name, measured, met) => targets.push(`| ${name} | ${measured} | ${met ? "met" : "**missed**"} |`);
/** Figures the closing explanation quotes, filled in as they are measured. */
const quoted = {};

try {
  const hits = await each([...LIBS, "map"], "hits");
  row("1. cache hits/s, median (min–max)", [...LIBS, "map"].map((lib) => spread(hits[lib].runs.map((x) => x / 1000), 0) + "k"));
  const hitRate = median(hits.cctoken.runs);
  target("cache hits ≥ 1,000,000/s", `${(hitRate / 1e6).toFixed(2)} M/s`, hitRate >= 1e6);
  target("within 2× of a plain JS Map", `${(median(hits.map.runs) / hitRate).toFixed(2)}×`, median(hits.map.runs) / hitRate <= 2);
  target("≥ 200× msal-node", `${Math.round(hitRate / median(hits["@azure/msal-node"].runs))}×`, hitRate / median(hits["@azure/msal-node"].runs) >= 200);

  // Every library must have sent its token requests to the local endpoint (no peer may
  // leave the machine): one per cold acquire, plus the bare fetches.
  const cold = {};
  for (const lib of [...LIBS, ...COLD_FLOORS]) {
    endpoint.reset();
    cold[lib] = await measure(lib, "cold");
    if (endpoint.tokenRequests < 2 * cold[lib].pairs) {
      throw new Error(`${lib}: the local endpoint saw ${endpoint.tokenRequests} token requests for ${cold[lib].pairs} cold acquires and as many bare fetches; its requests went elsewhere`);
    }
  }
  const coldRatio = (lib) => median(cold[lib].runs) / median(cold[lib].bare);
  const coldCell = (lib) => `${spread(cold[lib].runs, 2)} / ${spread(cold[lib].bare, 2)} = ${coldRatio(lib).toFixed(2)}×`;
  quoted.sansIo = coldRatio("sans-io core").toFixed(2);
  quoted.jsFloor = coldRatio("js floor").toFixed(2);
  const floorRatios = COLD_FLOORS.map((floor) => `${floor} ${coldRatio(floor).toFixed(2)}×`).join(", ");
  row("2. cold acquire ms / a bare fetch of the same POST, interleaved in the same process (ratio of medians)", [
    ...LIBS.map(coldCell),
    COLD_FLOORS.map((floor) => `${floor}: ${coldCell(floor)}`).join("; "),
  ]);
  target(
    "cold acquire ≤ 1.1× a bare fetch",
    `${coldRatio("cctoken").toFixed(2)}× (+${(median(cold.cctoken.runs) - median(cold.cctoken.bare)).toFixed(2)} ms); ${floorRatios}`,
    coldRatio("cctoken") <= 1.1,
  );

  const concurrent = [];
  for (const lib of LIBS) {
    endpoint.reset();
    await measure(lib, "concurrent");
    if (endpoint.tokenRequests === 0) throw new Error(`${lib}: the local endpoint saw no token request for 100 concurrent calls`);
    concurrent.push(String(endpoint.tokenRequests));
  }
  row("3. IdP requests for 100 concurrent cold calls", [...concurrent, ""]);
  target("100 concurrent cold calls → 1 IdP request", concurrent[0], concurrent[0] === "1");

  for (const [what, label] of [["import", "4. fresh process: import + construct, ms"], ["startup", "4. fresh process: import + construct + first token, ms"]]) {
    const times = {};
    for (const lib of LIBS) {
      times[lib] = [];
      for (let i = 0; i < 15; i += 1) times[lib].push((await measure(lib, what)).ms);
    }
    row(label, [...LIBS.map((lib) => spread(times[lib])), ""]);
    if (what === "import") target("import + construct ≤ 15 ms", `${median(times.cctoken).toFixed(1)} ms`, median(times.cctoken) <= 15);
  }

  const footprint = LIBS.map((lib) => installFootprint(lib));
  row("5. node_modules after installing only it / packed size", [...footprint.map((f) => f.text), ""]);
  target("install footprint ≤ 600 KB (≤ 1/10 of msal-node)", `${(footprint[0].installed / 1e3).toFixed(0)} KB (1/${Math.round(footprint[1].installed / footprint[0].installed)})`, footprint[0].installed <= 600e3 && footprint[0].installed * 10 <= footprint[1].installed);

  const certificate = await measure("cctoken", "certificate");
  row("6. certificate (PS256): cold acquire ms / signing cost per token", [`${spread(certificate.runs, 2)} / ${certificate.signingMs.toFixed(2)} ms`, "", "", ""]);

  const broker = await measureBroker();
  row("7. broker under local workerd: memory hit", [`${broker.memoryAlone}; ${broker.memory}`, "", "", `GET /healthz p50 ${broker.floorP50.toFixed(2)} ms`]);
  target("broker memory-hit p50 ≤ 1 ms (loopback client, one at a time)", `${broker.memoryAloneP50.toFixed(2)} ms (a GET /healthz: ${broker.floorP50.toFixed(2)} ms)`, broker.memoryAloneP50 <= 1);
  row("7. broker: KV hit / IdP miss", [`KV ${broker.kv}; IdP ${broker.idp}`, "", "", ""]);
  row("7. broker: KV reads per memory hit", ["0 (the store is read only on a memory miss; core unit test)", "", "", ""]);

  // The fleet (issue 15): bench/fleet.mjs. CCTOKEN_BENCH_BASE_BUILD names a pre-fleet Worker
  // build (worker/build of commit 303f4f3) for the "before" memory-hit figure.
  const baseBuild = process.env.CCTOKEN_BENCH_BASE_BUILD;
  const fleet = await measureFleet({ baseBuild, rounds: 5 });
  for (const [label, text] of fleetRows(fleet, baseBuild)) row(label, [text, "", "", ""]);
  target("2 × 50 concurrent cold requests: 1 IdP request", fleet.burst.join(", "), fleet.burst.every((n) => n === 1));

  const npmWasm = size(join(ROOT, "pkg/dist/web/cctoken_bg.wasm"));
  const workerWasm = size(join(ROOT, "worker/build/index_bg.wasm"));
  const floorWasm = Object.fromEntries(["toolchain", "sans_io", "core_slice"].map((name) => [name, size(join(ROOT, `target/floors/out/${name}/floor_${name}_bg.wasm`))]));
  row("8. wasm: npm module / Worker, raw (gzip)", [`${npmWasm.text} / ${workerWasm.text}`, "", "", `toolchain floor ${floorWasm.toolchain.text}; sans-io core ${floorWasm.sans_io.text}; core slice ${floorWasm.core_slice.text}`]);
  // scripts/build.sh keeps what wasm-bindgen produced, before wasm-opt, in target/wasm-opt/.
  const unoptimized = (name) => size(join(ROOT, "target/wasm-opt", name)).text;
  row("8. the same before wasm-opt -Oz", [`${unoptimized("cctoken_bg.wasm")} / ${unoptimized("index_bg.wasm")}`, "", "", `toolchain floor ${unoptimized("floor_toolchain_bg.wasm")}; sans-io core ${unoptimized("floor_sans_io_bg.wasm")}; core slice ${unoptimized("floor_core_slice_bg.wasm")}`]);
  target(
    "npm wasm ≤ 150 KB raw / 60 KB gzip",
    `${npmWasm.text}; the core slice alone ${floorWasm.core_slice.text}, the sans-io core ${floorWasm.sans_io.text}, the toolchain floor ${floorWasm.toolchain.text}`,
    npmWasm.raw <= 150e3 && npmWasm.gzip <= 60e3,
  );
  quoted.sliceGzip = `${(floorWasm.core_slice.gzip / 1e3).toFixed(0)} KB`;
  target("Worker bundle ≤ 300 KB gzip", workerWasm.text, workerWasm.gzip <= 300e3);
} finally {
  await endpoint.close();
  rmSync(tls.dir, { recursive: true, force: true });
}

const versions = LIBS.map((lib) => `${lib} ${JSON.parse(readFileSync(join(HERE, "node_modules", lib, "package.json"), "utf8")).version}`);
const header = ["measure", ...LIBS, "floors"];
const table = [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
const report = `# Benchmarks

Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0].model} (${cpus().length} cores), Node ${process.version},
against the local token endpoint over https on 127.0.0.1; ${versions.join(", ")}.
Each figure is the median with min–max; every library runs in fresh processes of the same run.
Produced by \`make bench\` (bench/run.mjs); not part of CI.

${table}

## Against the targets

| target | measured | |
| --- | --- | --- |
${targets.join("\n")}

The floors column holds references, not libraries. (1) a plain JS \`Map\` behind an async
function. (2) *js floor*: the least a careful client does in plain JS (correlation id, client
headers, an attempt timeout that aborts, no redirects, a bounded body, a checked reply, a frozen
cached result); *wasm floor*: one fetch through wasm-bindgen futures and a serde_json reply,
with no safeguard at all (bench/floors/toolchain); *sans-io core*: the js floor's I/O in JS
around two synchronous calls into cctoken's core (build the request; parse the reply and cache
the token), with no future, task or timer in wasm (bench/floors/sans-io); *core slice*:
cctoken's core client alone (below). (7) the broker's cheapest route, timed the same way.
(8) *toolchain floor* is that wasm; *sans-io core* is that build; *core slice* is cctoken's core
cut down to a client-secret client with one method (bench/floors/core-slice): no certificate
entry points, loaders, broker client, protected-API helper or result object. Every wasm here is
built the same way on every machine (std from source with the size profile, then wasm-opt -Oz;
scripts/lib.sh): wasm-opt takes about a tenth off the raw size and leaves gzip within 2 %
(the row "before wasm-opt -Oz"). The Worker keeps its function names (about 20 KB gzipped) so
that a trap in a deployed Worker says where it happened.

Why two targets stay missed: the *sans-io core* floor does in wasm only what the architecture
puts in the core (build the request, parse the reply, cache the token) and leaves every
other step to the same JS as the js floor; it lands at ${quoted.sansIo}× where the js floor
lands at ${quoted.jsFloor}×: moving the protocol into the core costs more than the 1.1× target
leaves above a careful client, before any async machinery. And the
*core slice*, a secret-only client with nothing else, is ${quoted.sliceGzip} gzipped.

Broker memory hits come from isolate memory with no KV read: the memory tier is answered
synchronously (\`acquire_from_memory\`) before any store is consulted (core unit tests).
`;
writeFileSync(join(ROOT, "BENCHMARKS.md"), report);
console.log(report);

function installFootprint(lib) {
  const dir = mkdtempSync(join(tmpdir(), "cctoken-footprint-"));
  try {
    writeFileSync(join(dir, "package.json"), "{}");
    const spec = lib === "cctoken" ? join(HERE, "cctoken.tgz") : `${lib}@${JSON.parse(readFileSync(join(HERE, "node_modules", lib, "package.json"), "utf8")).version}`;
    execFileSync("npm", ["install", "--silent", "--no-audit", "--no-fund", spec], { cwd: dir, stdio: "ignore" });
    const installed = Number(execFileSync("du", ["-sb", join(dir, "node_modules")], { encoding: "utf8" }).split("\t")[0]);
    const tarball = lib === "cctoken" ? spec : join(dir, execFileSync("npm", ["pack", "--silent", "--pack-destination", dir, spec], { cwd: dir, encoding: "utf8" }).trim());
    return { installed, text: `${(installed / 1e6).toFixed(2)} MB / ${(statSync(tarball).size / 1e3).toFixed(0)} KB` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function size(path) {
  const bytes = readFileSync(path);
  const gzip = gzipSync(bytes, { level: 9 }).length;
  return { raw: bytes.length, gzip, text: `${(bytes.length / 1e3).toFixed(0)} KB (${(gzip / 1e3).toFixed(0)} KB)` };
}

function makeTlsCertificate() {
  const dir = mkdtempSync(join(tmpdir(), "cctoken-bench-tls-"));
  const keyPath = join(dir, "key.pem");
  const certPath = join(dir, "cert.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", certPath, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  return { dir, certPath, key: readFileSync(keyPath, "utf8"), cert: readFileSync(certPath, "utf8") };
}
