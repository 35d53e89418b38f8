// Start-up of the app, from process start to the first screen painted, through
// tauri-driver (WebDriver). Run by scripts/startup, which starts Xvfb and tauri-driver.
//
//   node scripts/startup.mjs PORT APP RUNS
//
// Each run: a new WebDriver session launches APP through a one-line wrapper that
// writes the wall clock (ns) just before it execs the app; the page reports
// performance.timeOrigin (navigation start, ms since the epoch), the paint timing
// entry first-contentful-paint and the UI's own marks (ui/src/app.ts: the first screen
// inserted, and the first frame painted after it), in ms after navigation start. So:
//   spawn → navigation start      = the process and its webview starting (Rust, GTK,
//                                    WebKit's web process), before the page runs;
//   navigation start → painted    = the page: parse, run the bundle, ask the core for
//                                    the app state, draw the first screen;
//   spawn → painted               = what the user waits for.
import { mkdtempSync, readFileSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [port, app, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 7);
const base = `http://127.0.0.1:${port}`;

async function wd(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json.value;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const dir = mkdtempSync(join(tmpdir(), 'ikd-startup-'));
const stamp = join(dir, 'spawned');
const wrapper = join(dir, 'app');
// A fresh data dir per run: every run is a first start (the welcome screen).
writeFileSync(
  wrapper,
  `#!/bin/sh\nexport IKD_DATA_DIR='${dir}'/data-$$\ndate +%s%N > '${stamp}'\nexec '${app}' "$@"\n`,
);
chmodSync(wrapper, 0o755);

const rows = [];
try {
  for (let i = 0; i < runs; i++) {
    const session = await wd('POST', '/session', {
      capabilities: { alwaysMatch: { browserName: 'wry', 'tauri:options': { application: wrapper } } },
    });
    const id = session.sessionId;
    let t = null;
    for (let k = 0; k < 200 && !t; k++) {
      t = await wd('POST', `/session/${id}/execute/sync`, {
        script: `const m = (n) => performance.getEntriesByName(n)[0]?.startTime ?? null;
          const painted = m('ikd-first-screen-painted');
          return painted === null ? null : { origin: performance.timeOrigin, painted,
            inserted: m('ikd-first-screen'), fcp: m('first-contentful-paint'),
            screen: document.querySelector('[data-testid^="screen-"]')?.getAttribute('data-testid') ?? null };`,
        args: [],
      });
      if (!t) await sleep(25);
    }
    await wd('DELETE', `/session/${id}`);
    if (!t) throw new Error('no ikd-first-screen-painted mark within 5 s (is ui/dist older than ui/src?)');
    const spawnedMs = Number(BigInt(readFileSync(stamp, 'utf8').trim()) / 1000n) / 1000;
    const row = {
      webview: t.origin - spawnedMs,
      page: t.painted,
      total: t.origin + t.painted - spawnedMs,
    };
    rows.push(row);
    const f = (x) => (x === null ? '-' : x.toFixed(0));
    console.log(
      `run ${i + 1}: spawn→navigation ${f(row.webview)} ms; after navigation: first screen ` +
        `inserted ${f(t.inserted)}, painted ${f(t.painted)}, first contentful paint ${f(t.fcp)} ms; ` +
        `spawn→first screen painted ${f(row.total)} ms (${t.screen})`,
    );
    await sleep(300);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const m = (k) => median(rows.map((r) => r[k])).toFixed(0);
console.log(
  `median of ${rows.length}: spawn→first screen painted ${m('total')} ms ` +
    `(process + webview start ${m('webview')} ms, navigation start to first screen painted ${m('page')} ms)`,
);
