// One measurement in a fresh process: node measure.mjs <library> <measure> <settings-json>.
// Prints one JSON line. Started by run.mjs, which owns the token endpoint.
const started = performance.now();
const [library, measure, settingsJson] = process.argv.slice(2);
const settings = JSON.parse(settingsJson);
const { FLOORS, LIBRARIES, mapBaseline } = await import("./libraries.mjs");

const make = () => (library === "map" ? Promise.resolve(mapBaseline(settings.scope)) : (LIBRARIES[library] ?? FLOORS[library])(settings));
const out = (value) => console.log(JSON.stringify(value));

if (measure === "import") {
  // import + construct only, no token: the cost a cold serverless start pays up front.
  await make();
  out({ ms: performance.now() - started });
} else if (measure === "startup") {
  const acquire = await make();
  await acquire();
  out({ ms: performance.now() - started });
} else if (measure === "hits") {
  const acquire = await make();
  await acquire();
  const runs = [];
  for (let run = 0; run < 5; run += 1) {
    let count = 0;
    const until = performance.now() + 400;
    while (performance.now() < until) {
      for (let i = 0; i < 1000; i += 1) await acquire();
      count += 1000;
    }
    runs.push(count / 0.4);
  }
  out({ runs });
} else if (measure === "cold") {
  // Each cold acquire (a fresh client, construction not timed) paired with a bare fetch POST
  // of the same body in the same process, so both see the same connection pool and machine.
  // Which of the pair goes first alternates, so neither always follows the other's garbage.
  const body = new URLSearchParams({ client_id: settings.clientId, scope: settings.scope, client_secret: settings.secret, grant_type: "client_credentials" }).toString();
  const bareFetch = async () => {
    const response = await fetch(`${settings.url}/${settings.tenant}/oauth2/v2.0/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
    await response.json();
  };
  const times = [];
  const bare = [];
  const timed = async (run, into, keep) => {
    const t = performance.now();
    await run();
    if (keep) into.push(performance.now() - t);
  };
  const pairs = 320;
  for (let i = 0; i < pairs; i += 1) {
    const acquire = await make();
    const keep = i >= 20;
    if (i % 2 === 0) {
      await timed(bareFetch, bare, keep);
      await timed(acquire, times, keep);
    } else {
      await timed(acquire, times, keep);
      await timed(bareFetch, bare, keep);
    }
  }
  out({ runs: times, bare, pairs });
} else if (measure === "concurrent") {
  const acquire = await make();
  await Promise.all(Array.from({ length: 100 }, () => acquire()));
  out({ done: true });
} else if (measure === "certificate") {
  const { ConfidentialClient } = await import("cctoken");
  const options = (credential) => ({ clientId: settings.certClientId, authority: `${settings.url}/${settings.tenant}`, credential });
  const cold = [];
  for (let i = 0; i < 20; i += 1) {
    const client = new ConfidentialClient(options({ certificate: { privateKeyPem: settings.key, certificatePem: settings.cert } }));
    const t = performance.now();
    await client.acquireTokenForClient({ scopes: [settings.scope] });
    cold.push(performance.now() - t);
  }
  const warm = async (credential) => {
    const client = new ConfidentialClient(options(credential));
    await client.acquireTokenForClient({ scopes: [settings.scope] });
    const t = performance.now();
    for (let i = 0; i < 50; i += 1) await client.acquireTokenForClient({ scopes: [settings.scope], forceRefresh: true });
    return (performance.now() - t) / 50;
  };
  const withCertificate = await warm({ certificate: { privateKeyPem: settings.key, certificatePem: settings.cert } });
  const withSecret = await warm({ clientSecret: settings.certSecret });
  out({ runs: cold, signingMs: withCertificate - withSecret });
}
