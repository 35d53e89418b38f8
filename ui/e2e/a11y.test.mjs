// Accessibility suite (issue 15), Chromium at phone size against the fake shell:
// every screen state gets axe-core (WCAG 2.2 AA) with 0 violations, and a layout check at
// 200 % text and at 320 px width (no sideways scroll, nothing sticking out of its box,
// no clipped input value, no word broken though it would fit a line). Then keyboard-only
// runs that assert where focus is after each step.
//
// A11Y_SHOTS=<dir> also saves a 360×800 screenshot of each state there (docs/a11y/after).
// A11Y_SHOTS_ONLY=1 only takes the screenshots; A11Y_BEFORE=1 leaves out the states added by
// issue 15 (used once, on the unmodified UI, for docs/a11y/before).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { startHarness, newPhone, repoRoot, selfie, id, screen, pinEnter } from './harness.mjs';

const require = createRequire(import.meta.url);
const axeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
const SHOTS = process.env.A11Y_SHOTS ? resolve(repoRoot, process.env.A11Y_SHOTS) : null;
const SHOTS_ONLY = process.env.A11Y_SHOTS_ONLY === '1';

let h;
before(async () => {
  if (SHOTS) await mkdir(SHOTS, { recursive: true });
  h = await startHarness();
});
after(async () => { await h?.close(); });

// ---------- presets of the fake shell ----------
const inFuture = (secs) => new Date(Date.now() + secs * 1000).toISOString();
const enrollment = (status, extra = {}) => ({
  status, desk_name: null, reject_reason: null, code_expires_at: null, code_attempts_left: null,
  email_masked: 's***@example.com', ...extra,
});
const APPROVED = enrollment('approved', { code_expires_at: inFuture(23 * 3600 + 59 * 60 + 30), code_attempts_left: 5 });
const UNLOCKED = {
  stage: 'unlocked', pin: '271828',
  history: [
    { at: '2026-11-29T11:40:00Z', kind: 'unlocked', detail: null },
    { at: '2026-11-29T11:39:00Z', kind: 'pin_set', detail: null },
    { at: '2026-11-29T11:30:00Z', kind: 'desk_scanned', detail: 'Loket 2 Disdukcapil Kota Palembang' },
    { at: '2026-11-29T11:00:00Z', kind: 'registered', detail: null },
  ],
};
const LOCKED = { stage: 'locked', pin: '271828' };

// ---------- steps ----------
async function fillRegister(page, { consent = true } = {}) {
  await id(page, 'btn-daftar').click();
  await screen(page, 'register');
  await id(page, 'input-nik').fill('1671014509900001');
  await page.getByText(/Terdaftar di:/).waitFor();
  await id(page, 'input-email').fill('siti.rahmawati@example.com');
  await id(page, 'input-phone').fill('0812 3456 7890');
  await id(page, 'input-phone').blur();
  await page.getByText('+6281234567890').waitFor();
  if (consent) await id(page, 'check-consent').check();
}
async function toSelfie(page) {
  await fillRegister(page);
  await id(page, 'btn-register-next').click();
  await screen(page, 'selfie');
}
async function selfieOk(page) {
  await toSelfie(page);
  await id(page, 'input-selfie-file').setInputFiles(selfie);
  await id(page, 'selfie-preview').waitFor();
}
async function toCode(page) {
  await screen(page, 'status');
  await id(page, 'btn-enter-code').click();
  await screen(page, 'code');
}
async function toSettings(page) {
  await screen(page, 'home');
  await id(page, 'tile-pengaturan').click();
  await screen(page, 'settings');
  await id(page, 'btn-change-pin').waitFor();
}
async function toPresent(page) {
  await screen(page, 'home');
  await id(page, 'tile-bagikan').click();
  await screen(page, 'present');
  await id(page, 'input-vp-link').waitFor();
}
async function toInspect(page) {
  await screen(page, 'home');
  await id(page, 'tile-periksa').click();
  await screen(page, 'inspect');
  await id(page, 'btn-check-usia17').waitFor();
}
async function toConsent(page, link) {
  await toPresent(page);
  await id(page, 'input-vp-link').fill(link);
  await id(page, 'btn-vp-link-submit').click();
  await id(page, 'consent-who').waitFor();
}
async function toKtp(page) {
  await screen(page, 'home');
  await id(page, 'tile-dokumen').click();
  await id(page, 'ktp-card').waitFor();
}

/** Each screen state: how to reach it from a preset of the fake shell. `after`: exists only after issue 15. */
const STATES = [
  { name: 'welcome', go: (p) => screen(p, 'welcome') },
  { name: 'welcome-en', preset: { settings: { language: 'en', auto_lock_secs: 120, backend_url: 'https://ikd.example.go.id', verifier_url: 'https://periksa.example.co.id' } }, go: (p) => p.getByText('Register', { exact: true }).waitFor() },
  { name: 'register', go: async (p) => { await id(p, 'btn-daftar').click(); await screen(p, 'register'); } },
  { name: 'register-no-consent', go: (p) => fillRegister(p, { consent: false }) },
  {
    name: 'register-errors',
    go: async (p) => {
      await id(p, 'btn-daftar').click();
      await id(p, 'input-nik').fill('9901014509900001');
      await p.getByText('Kode provinsi pada NIK tidak dikenal.').waitFor();
      await id(p, 'input-email').fill('siti@');
      await id(p, 'input-phone').fill('0711 123456');
      await id(p, 'input-phone').blur();
      await p.getByText(/nomor seluler/).waitFor();
    },
  },
  { name: 'selfie', go: toSelfie },
  { name: 'selfie-ok', go: async (p) => { await selfieOk(p); await p.getByText('Foto jelas dan siap dikirim.').waitFor(); } },
  {
    name: 'selfie-too-dark',
    go: async (p) => {
      await toSelfie(p);
      const b64 = await p.evaluate(() => {
        const c = document.createElement('canvas');
        c.width = 60; c.height = 80;
        const g = c.getContext('2d');
        g.fillStyle = '#0a0a0a';
        g.fillRect(0, 0, 60, 80);
        return c.toDataURL('image/png').split(',')[1];
      });
      await id(p, 'input-selfie-file').setInputFiles({ name: 'dark.png', mimeType: 'image/png', buffer: Buffer.from(b64, 'base64') });
      await id(p, 'selfie-verdict').waitFor();
    },
  },
  { name: 'submit-review', go: async (p) => { await selfieOk(p); await id(p, 'btn-selfie-accept').click(); await id(p, 'btn-submit').waitFor(); } },
  {
    name: 'visit-officer',
    go: async (p) => { await selfieOk(p); await id(p, 'btn-selfie-accept').click(); await id(p, 'btn-submit').click(); await id(p, 'btn-scan-qr').waitFor(); },
  },
  { name: 'scan', preset: { stage: 'enrolling', enrollment: enrollment('submitted'), selfie: 'x' }, go: async (p) => { await id(p, 'btn-scan-qr').click(); await screen(p, 'scan'); } },
  {
    name: 'scan-error', preset: { stage: 'enrolling', enrollment: enrollment('submitted'), selfie: 'x' },
    go: async (p) => {
      await id(p, 'btn-scan-qr').click();
      await id(p, 'input-qr-text').fill('hello');
      await id(p, 'btn-qr-text-submit').click();
      await id(p, 'error-banner').waitFor();
    },
  },
  // polls: -1000 keeps the fake from approving while the checks run.
  { name: 'status-scanned', preset: { stage: 'enrolling', polls: -1000, enrollment: enrollment('scanned', { desk_name: 'Loket 2 Disdukcapil Kota Palembang' }) }, go: (p) => p.getByText(/sedang diperiksa/).waitFor() },
  { name: 'status-approved', preset: { stage: 'enrolling', approvedAt: Date.now(), enrollment: APPROVED }, go: (p) => id(p, 'btn-enter-code').waitFor() },
  { name: 'status-rejected', preset: { stage: 'enrolling', enrollment: enrollment('rejected', { reject_reason: 'Foto tidak sesuai dengan KTP-el' }) }, go: (p) => id(p, 'btn-start-over').waitFor() },
  { name: 'code', preset: { stage: 'enrolling', enrollment: APPROVED }, go: toCode },
  {
    name: 'code-wrong', preset: { stage: 'enrolling', enrollment: APPROVED },
    go: async (p) => {
      await toCode(p);
      for (const d of '111111') await id(p, `keypad-${d}`).click();
      await id(p, 'btn-code-submit').click();
      await id(p, 'error-banner').waitFor();
    },
  },
  { name: 'create-pin', preset: { stage: 'needs_pin' }, go: (p) => screen(p, 'create-pin') },
  { name: 'create-pin-policy', preset: { stage: 'needs_pin' }, go: async (p) => { await screen(p, 'create-pin'); await pinEnter(p, '123456'); await p.getByText('PIN tidak boleh berurutan.').waitFor(); } },
  { name: 'home', preset: UNLOCKED, go: (p) => id(p, 'home-name').waitFor() },
  { name: 'ktp', preset: UNLOCKED, go: toKtp },
  { name: 'ktp-zoomed', preset: UNLOCKED, go: async (p) => { await toKtp(p); await id(p, 'btn-ktp-zoom').click(); } },
  { name: 'ktp-large-text', after: true, preset: UNLOCKED, go: async (p) => { await toKtp(p); await id(p, 'btn-ktp-large').click(); await id(p, 'ktp-large').waitFor(); } },
  { name: 'kk', preset: UNLOCKED, go: async (p) => { await screen(p, 'home'); await id(p, 'tile-keluarga').click(); await id(p, 'kk-kepala').waitFor(); } },
  { name: 'kk-tables', after: true, preset: UNLOCKED, go: async (p) => { await screen(p, 'home'); await id(p, 'tile-keluarga').click(); await id(p, 'btn-kk-tables').click(); await id(p, 'kk-table-1').waitFor(); } },
  { name: 'history', preset: UNLOCKED, go: async (p) => { await screen(p, 'home'); await id(p, 'tile-histori').click(); await id(p, 'history-list').waitFor(); } },
  { name: 'settings', preset: UNLOCKED, go: toSettings },
  { name: 'settings-change-pin', preset: UNLOCKED, go: async (p) => { await toSettings(p); await id(p, 'btn-change-pin').click(); await p.getByText('Masukkan PIN lama.').waitFor(); } },
  { name: 'settings-release-dialog', preset: UNLOCKED, go: async (p) => { await toSettings(p); await id(p, 'btn-release-device').click(); await id(p, 'btn-confirm-release').waitFor(); } },
  { name: 'present-entry', preset: UNLOCKED, go: toPresent },
  { name: 'consent', preset: UNLOCKED, go: (p) => toConsent(p, 'openid4vp://?client_id=x509_hash%3Aabc&request_uri=https%3A%2F%2Fbank') },
  { name: 'consent-age', preset: UNLOCKED, go: (p) => toConsent(p, 'openid4vp://age') },
  { name: 'consent-unknown', preset: UNLOCKED, go: async (p) => { await toConsent(p, 'openid4vp://unknown'); await id(p, 'consent-warning').waitFor(); } },
  { name: 'consent-nothing', preset: UNLOCKED, go: async (p) => { await toConsent(p, 'openid4vp://nomatch'); await id(p, 'consent-nothing').waitFor(); } },
  { name: 'consent-pin', preset: UNLOCKED, go: async (p) => { await toConsent(p, 'openid4vp://bank'); await id(p, 'btn-share').click(); await p.getByText('Masukkan PIN untuk membagikan data.').waitFor(); } },
  { name: 'present-result', preset: UNLOCKED, go: async (p) => { await toConsent(p, 'openid4vp://bank'); await id(p, 'btn-share').click(); await pinEnter(p, '271828'); await id(p, 'present-shared').waitFor(); } },
  { name: 'present-declined', preset: UNLOCKED, go: async (p) => { await toConsent(p, 'openid4vp://bank'); await id(p, 'btn-decline').click(); await id(p, 'present-result').waitFor(); } },
  { name: 'inspect-entry', preset: UNLOCKED, go: toInspect },
  { name: 'inspect-qr', preset: UNLOCKED, go: async (p) => { await toInspect(p); await id(p, 'btn-check-identitas').click(); await id(p, 'inspect-qr').waitFor(); } },
  { name: 'inspect-valid', preset: UNLOCKED, go: async (p) => { await toInspect(p); await id(p, 'btn-check-usia17').click(); await id(p, 'inspect-result-valid').waitFor(); await id(p, 'inspect-portrait').waitFor(); } },
  { name: 'inspect-declined', preset: UNLOCKED, go: async (p) => { await toInspect(p); await id(p, 'btn-check-kk').click(); await id(p, 'inspect-result-declined').waitFor(); } },
  { name: 'pin', preset: LOCKED, go: (p) => screen(p, 'pin') },
  { name: 'pin-wrong', preset: LOCKED, go: async (p) => { await screen(p, 'pin'); await pinEnter(p, '000000'); await id(p, 'pin-attempts').waitFor(); } },
  { name: 'pin-near-wipe', preset: { ...LOCKED, failures: 7 }, go: async (p) => { await screen(p, 'pin'); await id(p, 'pin-attempts').waitFor(); } },
  { name: 'pin-lockout', preset: { ...LOCKED, failures: 5, lockedUntil: Date.now() + 600_000 }, go: (p) => id(p, 'pin-countdown').waitFor() },
  { name: 'pin-wiped', preset: { ...LOCKED, wiped: true }, go: (p) => id(p, 'btn-redownload').waitFor() },
  { name: 'forgot-pin', preset: LOCKED, go: async (p) => { await id(p, 'btn-forgot-pin').click(); await screen(p, 'forgot-pin'); } },
  { name: 'reset-selfie', preset: LOCKED, go: async (p) => { await id(p, 'btn-forgot-pin').click(); await id(p, 'btn-reset-selfie').click(); await screen(p, 'reset-selfie'); } },
  { name: 'reset-code', preset: LOCKED, go: async (p) => { await id(p, 'btn-forgot-pin').click(); await id(p, 'btn-reset-send').click(); await screen(p, 'reset-code'); } },
  {
    name: 'reset-code-wrong', preset: LOCKED,
    go: async (p) => {
      await id(p, 'btn-forgot-pin').click();
      await id(p, 'btn-reset-send').click();
      await screen(p, 'reset-code');
      for (const d of '111111') await id(p, `keypad-${d}`).click();
      await id(p, 'btn-reset-submit').click();
      await id(p, 'error-banner').waitFor();
    },
  },
];

// ---------- checks ----------
async function axe(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
    return r.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
}

/** Everything that does not reflow: page scroll, boxes past the edge, overflowing content, clipped values, needlessly broken words. */
function layoutProblems(page) {
  return page.evaluate(async () => {
    // Fields refit one frame after their ResizeObserver saw a text-size or width change
    // (ui.ts textField): frame 1 lays out and observes, frame 2 refits, frame 3 is checked.
    const frame = () => new Promise((r) => requestAnimationFrame(r));
    await frame(); await frame(); await frame();
    const doc = document.documentElement;
    const vw = doc.clientWidth;
    const out = [];
    if (doc.scrollWidth > vw + 1) out.push(`page is ${doc.scrollWidth}px wide in ${vw}px`);
    const label = (el) => `${el.tagName.toLowerCase()}${el.dataset.testid ? `[${el.dataset.testid}]` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ')[0]}` : ''} "${(el.textContent ?? '').trim().slice(0, 30)}"`;
    const scrolls = (el) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o === 'auto' || o === 'scroll') return true;
      }
      return false;
    };
    const skip = (el) => el.closest('.sr-only') !== null || el.closest('[hidden]') !== null;
    for (const el of document.body.querySelectorAll('*')) {
      if (skip(el) || el.tagName === 'SCRIPT' || el.tagName === 'STYLE') continue;
      const cs = getComputedStyle(el);
      if (cs.display === 'none' || cs.visibility === 'hidden' || cs.display === 'contents') continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (scrolls(el)) continue;
      if (r.right > vw + 1 || r.left < -1) out.push(`${label(el)} reaches ${Math.round(r.left)}…${Math.round(r.right)} in ${vw}px`);
      const ox = cs.overflowX;
      if (ox === 'auto' || ox === 'scroll') continue;
      if (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA') {
        if (el.type !== 'checkbox' && el.type !== 'file' && el.scrollWidth > el.clientWidth + 1) out.push(`${label(el)} value clipped (${el.scrollWidth} > ${el.clientWidth})`);
        if (el.tagName === 'TEXTAREA' && el.scrollHeight > el.clientHeight + 1) out.push(`${label(el)} value clipped below (${el.scrollHeight} > ${el.clientHeight})`);
      } else if (cs.display !== 'inline' && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
        out.push(`${label(el)} content overflows its box (${el.scrollWidth} > ${el.clientWidth})`);
      }
    }
    // A word split over two lines though it is narrower than 60 % of the screen: squeezed, not reflowed.
    const limit = vw * 0.6;
    const range = document.createRange();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const p = n.parentElement;
      if (!p || skip(p) || scrolls(p) || p.closest('script,style,svg,option,select')) continue;
      const re = /[^\s\-/]{2,}/g;
      for (let m = re.exec(n.data); m; m = re.exec(n.data)) {
        range.setStart(n, m.index);
        range.setEnd(n, m.index + m[0].length);
        const rects = [...range.getClientRects()].filter((x) => x.width > 0.5);
        if (new Set(rects.map((x) => Math.round(x.top))).size < 2) continue;
        const w = rects.reduce((a, x) => a + x.width, 0);
        if (w < limit) out.push(`word "${m[0]}" broken inside (${Math.round(w)}px would fit ${vw}px)`);
      }
    }
    return [...new Set(out)].slice(0, 12);
  });
}

async function shoot(page, name) {
  if (!SHOTS) return;
  await page.evaluate(async () => { await document.fonts?.ready; });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

for (const st of STATES) {
  if (st.after && process.env.A11Y_BEFORE === '1') continue;
  test(`screen state ${st.name}: axe, 200 % text, 320 px`, async () => {
    const { context, page, errors } = await newPhone(h, { preset: st.preset ?? null, scale: 1 });
    try {
      await st.go(page);
      await page.evaluate(() => document.fonts?.ready);
      await shoot(page, st.name);
      if (SHOTS_ONLY) return;
      assert.deepEqual(await axe(page), [], `axe on ${st.name}`);
      assert.deepEqual(await layoutProblems(page), [], `${st.name} at 360 px`);
      await page.evaluate(() => { document.documentElement.style.fontSize = '200%'; });
      assert.deepEqual(await layoutProblems(page), [], `${st.name} at 200 % text`);
      await page.evaluate(() => { document.documentElement.style.fontSize = ''; });
      await page.setViewportSize({ width: 320, height: 800 });
      assert.deepEqual(await layoutProblems(page), [], `${st.name} at 320 px`);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
}

// ---------- keyboard only ----------
/** The focused element: its test id, else tag and text. */
const focused = (page) => page.evaluate(() => {
  const a = document.activeElement;
  if (!a || a === document.body) return 'body';
  return a.dataset?.testid ?? `${a.tagName.toLowerCase()}:${(a.textContent ?? '').trim().slice(0, 40)}`;
});
/** Presses Tab until `testid` has focus; fails after `max` presses. Returns the number of presses. */
async function tabTo(page, testid, max = 8) {
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press('Tab');
    if ((await focused(page)) === testid) return i;
  }
  assert.fail(`${testid} not reached in ${max} Tabs (focus on ${await focused(page)})`);
}
const kb = (preset) => newPhone(h, { preset, scale: 1 });
const kbTest = (name, fn) => test(name, { skip: SHOTS_ONLY }, fn);

kbTest('keyboard: register from the welcome screen, selfie, send', async () => {
  const { context, page, errors } = await kb(null);
  await screen(page, 'welcome');
  await tabTo(page, 'btn-daftar', 4);
  await page.keyboard.press('Enter');
  await screen(page, 'register');
  assert.equal(await focused(page), 'h1:Daftar', 'a new screen focuses its title');
  await tabTo(page, 'input-nik', 2);
  await page.keyboard.type('1671014509900001');
  await page.getByText(/Terdaftar di:/).waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'input-email');
  await page.keyboard.type('siti.rahmawati@example.com');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'input-phone');
  await page.keyboard.type('081234567890');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'check-consent');
  await page.getByText('+6281234567890').waitFor();
  assert.match(await id(page, 'next-why').innerText(), /centang persetujuan/);
  await page.keyboard.press('Space');
  assert.equal(await id(page, 'next-why').isHidden(), true, 'no reason left once everything is given');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'btn-register-next');
  await page.keyboard.press('Enter');
  await screen(page, 'selfie');
  assert.equal(await focused(page), 'h1:Swafoto');
  await tabTo(page, 'input-selfie-file', 3);
  await id(page, 'input-selfie-file').setInputFiles(selfie);
  await id(page, 'selfie-preview').waitFor();
  assert.equal(await focused(page), 'selfie-verdict', 'the verdict takes the focus from the file picker');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'btn-selfie-accept');
  await page.keyboard.press('Enter');
  await id(page, 'btn-submit').waitFor();
  assert.equal(await focused(page), 'h1:Kirim pendaftaran');
  await tabTo(page, 'btn-submit', 3);
  await page.keyboard.press('Enter');
  await id(page, 'btn-scan-qr').waitFor();
  assert.equal(await focused(page), 'h1:Kunjungi petugas Dukcapil', 'the new title takes the focus after sending');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'btn-scan-qr');
  assert.deepEqual(errors, []);
  await context.close();
});

kbTest('keyboard: code entry — Enter submits, a wrong code puts focus on the first box', async () => {
  const { context, page, errors } = await kb({ stage: 'enrolling', enrollment: APPROVED });
  await screen(page, 'status');
  await tabTo(page, 'btn-enter-code', 4);
  await page.keyboard.press('Enter');
  await screen(page, 'code');
  await tabTo(page, 'code-box-0', 2);
  await page.keyboard.type('111111');
  assert.equal(await focused(page), 'code-box-5');
  await page.keyboard.press('Enter');
  await id(page, 'error-banner').waitFor();
  assert.match(await id(page, 'error-banner').innerText(), /^Kode aktivasi salah\./);
  assert.equal(await focused(page), 'code-box-0', 'focus back on the first box');
  assert.equal(await id(page, 'code-box-0').inputValue(), '');
  await page.keyboard.type('123456');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'btn-code-submit', 'the submit button follows the boxes (the keypad is out of the Tab order)');
  await page.keyboard.press('Enter');
  await screen(page, 'create-pin');
  assert.deepEqual(errors, []);
  await context.close();
});

kbTest('keyboard: PIN — create, lock, a wrong PIN, unlock', async () => {
  const { context, page, errors } = await kb({ stage: 'needs_pin' });
  await screen(page, 'create-pin');
  await page.keyboard.type('271828');
  await page.getByText('Masukkan PIN sekali lagi.').waitFor();
  await page.keyboard.type('271828');
  await screen(page, 'home');
  assert.equal(await focused(page), 'h1:Beranda');
  await tabTo(page, 'btn-lock', 2);
  await page.keyboard.press('Enter');
  await screen(page, 'pin');
  assert.equal(await focused(page), 'h1:Masukkan PIN');
  await page.keyboard.type('000000');
  await id(page, 'pin-attempts').waitFor();
  assert.match(await id(page, 'pin-message').innerText(), /PIN salah\./);
  assert.notEqual(await focused(page), 'body', 'focus is not lost after a wrong PIN');
  await page.keyboard.type('271828');
  await screen(page, 'home');
  assert.deepEqual(errors, []);
  await context.close();
});

kbTest('keyboard: Ubah PIN — the old PIN is checked first, focus follows each step', async () => {
  const { context, page, errors } = await kb(UNLOCKED);
  await toSettings(page);
  await tabTo(page, 'btn-change-pin', 3);
  await page.keyboard.press('Enter');
  await page.getByText('Masukkan PIN lama.').waitFor();
  assert.equal(await focused(page), 'p:Masukkan PIN lama.');
  await page.keyboard.type('000000');
  await page.getByText('PIN salah.').waitFor();
  assert.equal(await id(page, 'pin-message').innerText(), 'PIN salah.', 'a wrong old PIN is told before any new PIN is asked');
  await page.keyboard.type('271828');
  await page.getByText('Masukkan PIN baru.').waitFor();
  assert.equal(await focused(page), 'p:Masukkan PIN baru.');
  await page.keyboard.type('314159');
  await page.getByText('Masukkan PIN baru sekali lagi.').waitFor();
  await page.keyboard.type('314159');
  await page.getByText('PIN berhasil diubah.').waitFor();
  assert.equal(await focused(page), 'btn-change-pin', 'focus back on Ubah PIN');
  assert.deepEqual(errors, []);
  await context.close();
});

kbTest('keyboard: the Lepas Perangkat dialog traps Tab, closes with Escape, gives focus back', async () => {
  const { context, page, errors } = await kb(UNLOCKED);
  await toSettings(page);
  await tabTo(page, 'btn-release-device', 12);
  await page.keyboard.press('Enter');
  await id(page, 'btn-confirm-release').waitFor();
  assert.equal(await focused(page), 'btn-cancel-release');
  const seen = [];
  for (let i = 0; i < 4; i++) { await page.keyboard.press('Tab'); seen.push(await focused(page)); }
  assert.deepEqual(seen, ['btn-confirm-release', 'btn-cancel-release', 'btn-confirm-release', 'btn-cancel-release'], 'Tab stays in the dialog');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(page), 'btn-confirm-release');
  await page.keyboard.press('Escape');
  await id(page, 'btn-confirm-release').waitFor({ state: 'detached' });
  assert.equal(await focused(page), 'btn-release-device', 'focus returns to the opener');
  await page.keyboard.press('Enter');
  await id(page, 'btn-cancel-release').waitFor();
  await page.keyboard.press('Enter');
  await id(page, 'btn-cancel-release').waitFor({ state: 'detached' });
  assert.equal(await focused(page), 'btn-release-device');
  assert.deepEqual(errors, []);
  await context.close();
});

kbTest('keyboard: the KTP zoom traps Tab, closes with Escape, gives focus back', async () => {
  const { context, page, errors } = await kb(UNLOCKED);
  await toKtp(page);
  await tabTo(page, 'btn-ktp-large', 6);
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'btn-ktp-zoom');
  await page.keyboard.press('Enter');
  await id(page, 'ktp-zoom').waitFor();
  assert.equal(await focused(page), 'btn-ktp-unzoom');
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'btn-ktp-unzoom', 'nothing under the zoom is reachable');
  }
  assert.equal(await id(page, 'btn-open-kk').evaluate((b) => b.closest('[inert]') !== null), true, 'the page under the zoom is inert');
  await page.keyboard.press('Escape');
  await id(page, 'ktp-zoom').waitFor({ state: 'detached' });
  assert.equal(await focused(page), 'btn-ktp-zoom');
  await id(page, 'ktp-card').waitFor();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  await id(page, 'ktp-zoom').waitFor({ state: 'detached' });
  assert.equal(await focused(page), 'btn-ktp-zoom');
  // Teks besar by keyboard
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(page), 'btn-ktp-large');
  await page.keyboard.press('Space');
  await id(page, 'ktp-large').waitFor();
  assert.equal(await id(page, 'btn-ktp-large').getAttribute('aria-pressed'), 'true');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a large system text size opens the KTP in the large-text view', { skip: SHOTS_ONLY }, async () => {
  const context = await h.browser.newContext({ viewport: { width: 360, height: 800 }, locale: 'id-ID', reducedMotion: 'reduce' });
  // The system's text size as the WebView sees it: 1rem = 32 px.
  await context.addInitScript(() => {
    document.addEventListener('DOMContentLoaded', () => { document.documentElement.style.fontSize = '200%'; });
  });
  await context.addInitScript((p) => sessionStorage.setItem('ikd-fake', p), JSON.stringify(UNLOCKED));
  await context.addInitScript({ content: h.fake });
  const page = await context.newPage();
  await page.goto(h.server.url);
  await screen(page, 'home');
  await id(page, 'tile-dokumen').click();
  await id(page, 'ktp-large').waitFor();
  assert.equal(await id(page, 'btn-ktp-large').getAttribute('aria-pressed'), 'true');
  assert.equal(await id(page, 'ktp-card').count(), 0);
  assert.deepEqual(await layoutProblems(page), []);
  await context.close();
});
