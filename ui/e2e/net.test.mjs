// The app on a bad network at 360×800 in Chromium, against the fake shell: the form and
// selfie survive a restart, the slow-network line after 10 s (Playwright's clock), the
// offline banner, "Coba lagi" resuming the same step, and leaving a screen cancels its
// request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startHarness, newPhone, repoRoot, selfie, id, screen } from './harness.mjs';

const shots = join(repoRoot, 'artifacts', 'ui-net');
let h;
before(async () => {
  await mkdir(shots, { recursive: true });
  h = await startHarness();
});
after(async () => { await h?.close(); });

const fake = (page, fn, arg) => page.evaluate(fn, arg);
const shot = (page, name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

test('slow, then offline, then "Coba lagi" sends the registration once; the draft survives a restart', async () => {
  const { context, page, errors } = await newPhone(h);
  await screen(page, 'welcome');
  await id(page, 'btn-daftar').click();
  await screen(page, 'register');
  await id(page, 'input-nik').fill('1671014509900001');
  await id(page, 'input-email').fill('siti.rahmawati@example.com');
  await id(page, 'input-phone').fill('0812 3456 7890');
  await id(page, 'input-phone').blur();
  await page.getByText('+6281234567890').waitFor();
  await id(page, 'check-consent').check();
  await id(page, 'btn-register-next').click();
  await screen(page, 'selfie');
  await id(page, 'input-selfie-file').setInputFiles(selfie);
  await id(page, 'btn-selfie-accept').click();
  await screen(page, 'submitted');

  // The app restarts before submitting: form and selfie come back, on the review screen.
  await page.waitForFunction(() => window.__fake.state.draft?.phone === '0812 3456 7890');
  await fake(page, () => window.__fake.persist());
  await page.reload();
  await screen(page, 'submitted');
  await page.getByText('1671014509900001').waitFor();
  await page.locator('.review-photo').waitFor();

  // A slow link: the progress shows the upload's size, and after 10 s the slow line.
  await page.clock.install();
  await fake(page, () => { window.__fake.state.net = 'hang'; });
  await id(page, 'btn-submit').click();
  await id(page, 'submit-progress').waitFor();
  assert.match(await id(page, 'net-detail').innerText(), /Ukuran kiriman: \d+ KB/);
  assert.equal(await id(page, 'net-slow').isVisible(), false);
  // The shell reports the bytes handed to the network: a determinate bar.
  await fake(page, () => window.__fake.upload(45 * 1024, 97 * 1024));
  await page.getByText('Terkirim: 45 dari 97 KB').waitFor();
  const bar = page.locator('[data-testid="submit-progress"] progress');
  assert.equal(await bar.evaluate((b) => [b.value, b.max].join('/')), `${45 * 1024}/${97 * 1024}`);
  await shot(page, 'upload-progress');
  await page.clock.runFor(10_000);
  await id(page, 'net-slow').waitFor();
  assert.equal(await id(page, 'net-slow').innerText(), 'Jaringan lambat, masih mencoba…');
  await shot(page, 'slow-network');

  // The link drops: the error and the offline banner.
  await fake(page, () => { window.__fake.state.net = 'offline'; window.__fake.release(); });
  await id(page, 'error-banner').waitFor();
  await id(page, 'offline-banner').waitFor();
  assert.match(await id(page, 'offline-banner').innerText(), /Tidak dapat terhubung ke server/);
  assert.equal(await fake(page, () => window.__fake.state.submits), 0);
  await shot(page, 'offline');

  // Back online: "Coba lagi" resumes the same step; one registration.
  await fake(page, () => { window.__fake.state.net = 'ok'; });
  await id(page, 'btn-retry').click();
  await id(page, 'btn-scan-qr').waitFor();
  assert.equal(await id(page, 'offline-banner').isVisible(), false);
  assert.equal(await fake(page, () => window.__fake.state.submits), 1);
  assert.deepEqual(errors, []);
  await context.close();
});

test('leaving the screen cancels its request; the step can be sent again', async () => {
  const preset = {
    stage: 'enrolling',
    enrollment: { status: 'submitted', desk_name: null, reject_reason: null, code_expires_at: null, code_attempts_left: null, email_masked: 's***@example.com' },
  };
  const { context, page, errors } = await newPhone(h, { preset });
  await screen(page, 'submitted');
  await id(page, 'btn-scan-qr').click();
  await screen(page, 'scan');
  await fake(page, () => { window.__fake.state.net = 'hang'; });
  await id(page, 'input-qr-text').fill('IKD-DESK:eyJkZXNrIjoibG9rZXQtMiJ9');
  await id(page, 'btn-qr-text-submit').click();
  await page.locator('.net-busy').waitFor();
  await id(page, 'btn-back').click();
  await screen(page, 'submitted');
  await page.waitForFunction(() => window.__fake.state.cancels === 1);
  assert.equal(await fake(page, () => window.__fake.state.enrollment.status), 'submitted');

  await fake(page, () => { window.__fake.state.net = 'ok'; });
  await id(page, 'btn-scan-qr').click();
  await id(page, 'input-qr-text').fill('IKD-DESK:eyJkZXNrIjoibG9rZXQtMiJ9');
  await id(page, 'btn-qr-text-submit').click();
  await screen(page, 'status');
  assert.deepEqual(errors, []);
  await context.close();
});
