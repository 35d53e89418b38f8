// Shared pieces of the Chromium phone tests: the browser, a phone-sized page with the fake shell.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { serveDist, fakeBackendScript } from './serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const uiRoot = join(here, '..');
export const repoRoot = join(uiRoot, '..');
export const selfie = join(repoRoot, 'core', 'tests', 'fixtures', 'astronaut.png');

export const LAUNCH = {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};

/** Starts the static server and the browser; returns { server, browser, fake, close }. */
export async function startHarness() {
  const fake = await fakeBackendScript(uiRoot);
  const server = await serveDist(join(uiRoot, 'dist'));
  const browser = await chromium.launch(LAUNCH);
  return {
    server, browser, fake,
    async close() { await browser.close(); await server.close(); },
  };
}

/**
 * A 360×800 phone page with the fake shell; `preset` is the fake's initial state
 * (sessionStorage `ikd-fake`, see fake-backend.ts).
 */
export async function newPhone(h, { preset = null, scale = 2, width = 360, height = 800 } = {}) {
  const context = await h.browser.newContext({
    viewport: { width, height }, deviceScaleFactor: scale, isMobile: false, hasTouch: true,
    locale: 'id-ID', timezoneId: 'Asia/Jakarta', reducedMotion: 'reduce',
  });
  // No camera in the test browser: the selfie screen falls back to the file picker.
  await context.addInitScript(() => {
    if (navigator.mediaDevices) {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('no camera', 'NotFoundError'));
    }
  });
  if (preset) {
    await context.addInitScript((p) => {
      if (!sessionStorage.getItem('ikd-fake')) sessionStorage.setItem('ikd-fake', p);
    }, JSON.stringify(preset));
  }
  await context.addInitScript({ content: h.fake });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(h.server.url);
  return { context, page, errors };
}

export const id = (page, testid) => page.getByTestId(testid);
export async function screen(page, name) {
  await id(page, `screen-${name}`).waitFor({ state: 'visible' });
}
export async function pinEnter(page, pin) {
  for (const d of pin) await id(page, `pin-key-${d}`).click();
}
