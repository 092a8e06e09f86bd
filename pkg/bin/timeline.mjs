// A token's lifetime as a time line for the terminal (`cctoken token --decode`, `cctoken
// doctor`): issued, the refresh point, the expiry buffer and expiry on one bar, the local clock
// marked under it. Pure: the caller says whether colour is wanted (see `wantsColor`).

const WIDTH = 48;
const ESC = "\u001b[";
const PAINT = { fresh: "32", refresh: "33", buffer: "31", dim: "2" };

/**
 * Colour only for a terminal, and never when NO_COLOR is set to anything but "" (no-color.org).
 * @param {{isTTY?: boolean}} stream where the picture is written
 * @param {Record<string, string | undefined>} env
 */
export function wantsColor(stream, env) {
  return stream?.isTTY === true && !(Object.hasOwn(env, "NO_COLOR") && env.NO_COLOR !== "");
}

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min`;
  if (s < 172_800) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86_400)} days`;
}

/**
 * The picture, lines joined by "\n" (no trailing newline), or "" when the times make no line.
 * @param {{issuedMs?: number | null, refreshOnMs?: number | null, expiryBufferMs: number, expiresOnMs: number}} lifetime
 * @param {{nowMs: number, color: boolean}} how
 */
export function renderTimeline(lifetime, { nowMs, color }) {
  const { expiresOnMs, expiryBufferMs } = lifetime;
  const issuedMs = lifetime.issuedMs ?? nowMs;
  if (!Number.isFinite(expiresOnMs) || !Number.isFinite(issuedMs) || expiresOnMs <= issuedMs) return "";
  const span = expiresOnMs - issuedMs;
  const at = (ms) => Math.min(WIDTH - 1, Math.max(0, Math.round(((ms - issuedMs) / span) * (WIDTH - 1))));
  const bufferMs = Math.max(issuedMs, expiresOnMs - expiryBufferMs);
  const refreshMs = lifetime.refreshOnMs != null && lifetime.refreshOnMs < bufferMs ? lifetime.refreshOnMs : undefined;
  const paint = (code, text) => (color ? `${ESC}${code}m${text}${ESC}0m` : text);

  // Three stretches: served as is (until the refresh point), refreshed in the background (until
  // the buffer), and not served any more (the buffer). Marks sit on the bar at their instants.
  const refreshAt = refreshMs === undefined ? undefined : at(refreshMs);
  const bufferAt = at(bufferMs);
  const cells = [];
  for (let i = 0; i < WIDTH; i += 1) {
    let [stretch, char] = i >= bufferAt ? ["buffer", "░"] : refreshAt !== undefined && i >= refreshAt ? ["refresh", "━"] : ["fresh", "━"];
    if (i === 0) char = "●";
    else if (i === WIDTH - 1) char = "■";
    else if (i === refreshAt) char = "◆";
    else if (i === bufferAt) char = "▏";
    const last = cells.at(-1);
    if (last?.stretch === stretch) last.text += char;
    else cells.push({ stretch, text: char });
  }
  const bar = cells.map(({ stretch, text }) => paint(PAINT[stretch], text)).join("");
  const nowAt = Math.min(WIDTH - 1, Math.max(0, Math.round(((nowMs - issuedMs) / span) * (WIDTH - 1))));
  const nowLine = `${" ".repeat(nowAt)}▲ now`;
  const row = (mark, code, name, ms, note) => `  ${paint(code, mark)} ${name.padEnd(14)} ${iso(ms)}  ${paint(PAINT.dim, note)}`;
  const lines = [`token lifetime (${duration(span)}):`, `  ${bar}`, `  ${nowLine}`];
  lines.push(row("●", PAINT.fresh, "issued", issuedMs, lifetime.issuedMs == null ? "(when it was acquired: the token carries no iat)" : `${duration(nowMs - issuedMs)} ago`));
  if (refreshMs !== undefined) {
    lines.push(row("◆", PAINT.refresh, "refresh point", refreshMs, "from here the client fetches a new token in the background"));
  } else {
    lines.push(`  ${paint(PAINT.refresh, "◆")} ${"refresh point".padEnd(14)} none before the expiry buffer`);
  }
  lines.push(row("░", PAINT.buffer, "expiry buffer", bufferMs, `cached copy no longer served: a new token is fetched first (${duration(expiresOnMs - bufferMs)} before expiry)`));
  lines.push(row("■", PAINT.buffer, "expiry", expiresOnMs, nowMs < expiresOnMs ? `in ${duration(expiresOnMs - nowMs)}` : `${duration(nowMs - expiresOnMs)} ago`));
  return lines.join("\n");
}

/** The expiry buffer of the CLI's clients: the library's default (no CLI option changes it). */
const CLI_EXPIRY_BUFFER_MS = 300_000;

/**
 * `cctoken token --decode`'s picture of `result` (an acquireTokenForClient result) and its
 * decoded `claims`, written to `stream` (coloured as {@link wantsColor} says).
 */
export function printTokenTimeline(result, claims, stream, env, nowMs = Date.now()) {
  const lifetime = {
    issuedMs: Number.isSafeInteger(claims?.iat) && claims.iat >= 0 ? claims.iat * 1000 : null,
    refreshOnMs: result.refreshOn?.getTime() ?? null,
    expiryBufferMs: CLI_EXPIRY_BUFFER_MS,
    expiresOnMs: result.expiresOn.getTime(),
  };
  const picture = renderTimeline(lifetime, { nowMs, color: wantsColor(stream, env) });
  if (picture) stream.write(`${picture}\n`);
}
