// Start-up of the app, from process start to the first screen painted, through
// tauri-driver (WebDriver). Run by scripts/startup, which starts Xvfb and tauri-driver.
//
//   node scripts/startup.mjs PORT APP RUNS
//
// Each run is a first start (a fresh IKD_DATA_DIR: the welcome screen). A one-line
// wrapper writes the wall clock (ns) just before it execs APP, and sets
// IKD_STARTUP_TRACE, so that the shell appends its own wall-clock steps to a file
// (src-tauri/src/startup_trace.rs). The page gives performance.timeOrigin (navigation
// start, ms since the epoch), its Navigation Timing entry, the Paint Timing entry
// first-contentful-paint (WebKitGTK has it) and the UI's marks (ui/src/main.ts,
// ui/src/app.ts). Every figure is in ms after the spawn stamp, on one clock:
//   main         Rust run() entered: exec, the dynamic loader (GTK, WebKitGTK, …), libc
//                and Rust runtime start;
//   built        tauri::Builder::build returned: config and embedded assets, GTK init,
//                the event loop;
//   window       our setup() entered: the event loop ran, Tauri created the config
//                window and its webview (WebKit's network process is spawned here);
//   wallet       Wallet::open returned (key store, SQLite), on its own thread
//                (src-tauri/src/lib.rs: WalletSlot), started at "window"; commands
//                wait for it, the main thread does not;
//   setup        our setup() returned (the wallet still opening); the main loop runs;
//   webproc      WebKit's web process started (its /proc start time, 10 ms ticks);
//   loadstart    the webview's load-changed "started" event, in this process;
//   navigation   performance.timeOrigin: navigation start, in the web process;
//   html         the page's responseEnd (index.html served by the tauri:// handler,
//                which runs on this process's main thread);
//   boot         the module bundle fetched, parsed and evaluated (ui/src/main.ts);
//   fcp          first contentful paint (the boot spinner, before any IPC);
//   state        the first app_state answer arrived (one IPC round trip);
//   inserted     the first real screen inserted into the DOM (after the draft IPC);
//   painted      the first frame painted after it (a task queued from the next
//                animation frame runs after that frame's paint): what the user waits for.
// What is whose: spawn → main is the loader's (mostly WebKitGTK's and GTK's libraries);
// main → window is Tauri's, GTK's and WebKit's UI-process start (our code there is the
// builder and the config); window → navigation is the webview's own start (WebKit's web
// process launched and initialised; our main thread is free since "setup"); navigation
// → fcp is the page (our bundle); fcp → painted is our IPC (app_state, draft) and the
// next frame, which on Xvfb includes Mesa llvmpipe compiling WebKit's GL shaders (see
// docs/notes/session6-startup.md).
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

const f = (x) => (x === null ? '-' : x.toFixed(0));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const dir = mkdtempSync(join(tmpdir(), 'ikd-startup-'));
const stamp = join(dir, 'spawned');
const trace = join(dir, 'trace');
// AB_ENV="VAR=1 VAR2=0": every second run gets these variables too, and the medians are
// given for each half (A/B under the same load).
const abEnv = (process.env.AB_ENV ?? '').trim();
const wrapperFor = (name, extra) => {
  const wrapper = join(dir, name);
  // A fresh data dir per run: every run is a first start (the welcome screen).
  writeFileSync(
    wrapper,
    `#!/bin/sh\nexport IKD_DATA_DIR='${dir}'/data-$$ IKD_STARTUP_TRACE='${trace}' ${extra}\n` +
      `rm -f '${trace}'\ndate +%s%N > '${stamp}'\nexec '${app}' "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  return wrapper;
};
const wrappers = [wrapperFor('app', '')];
if (abEnv) wrappers.push(wrapperFor('app-b', abEnv));

const rows = [];
try {
  for (let i = 0; i < runs; i++) {
    const session = await wd('POST', '/session', {
      capabilities: {
        alwaysMatch: { browserName: 'wry', 'tauri:options': { application: wrappers[i % wrappers.length] } },
      },
    });
    const id = session.sessionId;
    let t = null;
    for (let k = 0; k < 200 && !t; k++) {
      t = await wd('POST', `/session/${id}/execute/sync`, {
        script: `const m = (n) => performance.getEntriesByName(n)[0]?.startTime ?? null;
          const painted = m('ikd-first-screen-painted');
          const nav = performance.getEntriesByType('navigation')[0];
          return painted === null ? null : { origin: performance.timeOrigin, painted,
            inserted: m('ikd-first-screen'), fcp: m('first-contentful-paint'),
            boot: m('ikd-boot'), state: m('ikd-app-state'), html: nav ? nav.responseEnd : null,
            screen: document.querySelector('[data-testid^="screen-"]')?.getAttribute('data-testid') ?? null };`,
        args: [],
      });
      if (!t) await sleep(25);
    }
    await wd('DELETE', `/session/${id}`);
    if (!t) throw new Error('no ikd-first-screen-painted mark within 5 s (is ui/dist older than ui/src?)');
    const spawnedMs = Number(BigInt(readFileSync(stamp, 'utf8').trim()) / 1000n) / 1000;
    // The shell's steps: the first line of each label, in ms after the spawn stamp.
    const shell = {};
    let traceText = '';
    try { traceText = readFileSync(trace, 'utf8'); } catch { /* an app without the trace */ }
    for (const line of traceText.split('\n')) {
      const [label, ns] = line.split(' ');
      if (!label || !ns || label in shell) continue;
      shell[label] = Number(BigInt(ns) / 1000n) / 1000 - spawnedMs;
    }
    const page = (x) => (x === null || x === undefined ? null : t.origin + x - spawnedMs);
    const row = {
      main: shell.main ?? null,
      built: shell.built ?? null,
      window: shell.windows ?? null,
      wallet: shell.wallet ?? null,
      setup: shell.setup ?? null,
      webproc: shell['proc:WebKitWebProces'] ?? null,
      loadstart: shell['page-started'] ?? null,
      navigation: t.origin - spawnedMs,
      html: page(t.html),
      boot: page(t.boot),
      fcp: page(t.fcp),
      state: page(t.state),
      inserted: page(t.inserted),
      painted: page(t.painted),
    };
    rows.push({ group: i % wrappers.length, row });
    console.log(
      `run ${i + 1}${abEnv ? (i % 2 ? ' [B: ' + abEnv + ']' : ' [A]') : ''} (${t.screen}), ms after spawn: ` +
        Object.entries(row).map(([k, v]) => `${k} ${f(v)}`).join(', '),
    );
    await sleep(300);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
function summary(rows, label) {
  const m = (k) => {
    const xs = rows.map((r) => r[k]).filter((x) => x !== null);
    return xs.length ? median(xs) : null;
  };
  const keys = Object.keys(rows[0] ?? {});
  console.log(`${label}median of ${rows.length}, ms after spawn: ` + keys.map((k) => `${k} ${f(m(k))}`).join(', '));
  const span = (a, b) => (m(a) === null || m(b) === null ? '-' : (m(b) - m(a)).toFixed(0));
  console.log(
    `${label}spans of the medians: process start (spawn→main) ${f(m('main'))}; ` +
      `Tauri build + GTK (main→built) ${span('main', 'built')}; event loop + window + webview ` +
      `(built→window) ${span('built', 'window')}; our setup on the main thread (window→setup) ${span('window', 'setup')}; ` +
      `Wallet::open on its own thread (window→wallet) ${span('window', 'wallet')}; ` +
      `webview until navigation (setup→navigation) ${span('setup', 'navigation')}; ` +
      `page until first paint (navigation→fcp) ${span('navigation', 'fcp')}; ` +
      `navigation→app_state answered ${span('navigation', 'state')}; app_state→first screen painted ` +
      `${span('state', 'painted')}`,
  );
  console.log(
    `${label}median: spawn→first contentful paint ${f(m('fcp'))} ms; spawn→first screen painted ${f(m('painted'))} ms`,
  );
}
if (abEnv) {
  summary(rows.filter((r) => r.group === 0).map((r) => r.row), 'A (as is): ');
  summary(rows.filter((r) => r.group === 1).map((r) => r.row), `B (${abEnv}): `);
} else {
  summary(rows.map((r) => r.row), '');
}
