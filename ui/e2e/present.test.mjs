// Bagikan data (OpenID4VP) at 360×800 in Chromium against the fake shell: the consent screen
// shows who asks, why and exactly which fields; "Bagikan" takes the PIN and sends only the chosen
// fields; "Tolak" declines; Histori Aktivitas shows both. Screenshots of the consent screen in
// Bahasa Indonesia and English go to docs/present/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startHarness, newPhone, repoRoot, id, screen, pinEnter } from './harness.mjs';

const shots = join(repoRoot, 'docs', 'present');
const UNLOCKED = { stage: 'unlocked', pin: '271828', history: [] };
const BANK = 'openid4vp://?client_id=x509_hash%3Aabc&request_uri=https%3A%2F%2Fverifikasi.bank.example.co.id%2Frequest%2F1';
let h;

before(async () => {
  await mkdir(shots, { recursive: true });
  h = await startHarness();
});
after(async () => { await h?.close(); });

async function toConsent(page, link) {
  await screen(page, 'home');
  await id(page, 'tile-bagikan').click();
  await screen(page, 'present');
  await id(page, 'input-vp-link').fill(link);
  await id(page, 'btn-vp-link-submit').click();
  await id(page, 'consent-who').waitFor();
}
const text = (page, testid) => id(page, testid).innerText();

test('consent: who asks, why, which fields; share with the PIN sends only the chosen ones', async () => {
  const { context, page, errors } = await newPhone(h, { preset: UNLOCKED, scale: 1 });
  try {
    await toConsent(page, BANK);
    assert.equal(await text(page, 'consent-org'), 'Bank Contoh Tbk');
    assert.match(await text(page, 'consent-host'), /verifikasi\.bank\.example\.co\.id/);
    assert.equal(await text(page, 'consent-trust'), 'Terdaftar');
    assert.equal(await id(page, 'consent-warning').count(), 0);
    assert.equal(await text(page, 'consent-purpose'), 'Pembukaan rekening tabungan');
    assert.match(await text(page, 'consent-field-nama'), /Nama\s+wajib\s+SITI RAHMAWATI/);
    assert.match(await text(page, 'consent-field-nik'), /1671014509900001/);
    assert.match(await text(page, 'consent-field-nomor_kk'), /opsional/);
    assert.equal(await page.locator('[data-testid="consent-field-foto"] img').count(), 1);
    await page.evaluate(async () => { await document.fonts?.ready; });
    await page.screenshot({ path: join(shots, 'consent-id-360x800.png') });

    // Leave the optional KK number out, then share with the PIN (a wrong one first).
    await id(page, 'consent-toggle-nomor_kk').uncheck();
    await id(page, 'btn-share').click();
    await page.getByText('Masukkan PIN untuk membagikan data.').waitFor();
    await pinEnter(page, '000000');
    await page.getByText('PIN salah', { exact: false }).first().waitFor();
    await pinEnter(page, '271828');
    await id(page, 'present-shared').waitFor();
    assert.match(await text(page, 'present-result'), /Data dikirim ke Bank Contoh Tbk \(verifikasi\.bank\.example\.co\.id\)/);
    const shared = await text(page, 'present-shared');
    assert.match(shared, /Nama/);
    assert.match(shared, /Foto/);
    assert.doesNotMatch(shared, /Nomor KK/);

    // Histori Aktivitas: to whom and which fields.
    await id(page, 'btn-present-home').click();
    await id(page, 'tile-histori').click();
    await id(page, 'history-list').waitFor();
    const hist = await text(page, 'history-list');
    assert.match(hist, /Data dibagikan ke pemeriksa/);
    assert.match(hist, /Bank Contoh Tbk \(verifikasi\.bank\.example\.co\.id\): nama, nik, foto, alamat/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('consent: decline answers the verifier and is in the history; an unknown verifier is marked red', async () => {
  const { context, page, errors } = await newPhone(h, { preset: UNLOCKED, scale: 1 });
  try {
    await toConsent(page, 'openid4vp://unknown');
    assert.equal(await text(page, 'consent-trust'), 'Tidak dikenal');
    assert.match(await text(page, 'consent-warning'), /tidak terdaftar/);
    await id(page, 'btn-decline').click();
    await id(page, 'present-result').waitFor();
    assert.match(await text(page, 'present-result'), /Permintaan dari Toko Tidak Dikenal \(verifier\.example\.net\) ditolak/);
    assert.equal(await id(page, 'present-shared').count(), 0);
    await id(page, 'btn-present-home').click();
    await id(page, 'tile-histori').click();
    assert.match(await text(page, 'history-list'), /Permintaan data ditolak/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('consent in English at 360×800 (screenshot)', async () => {
  const { context, page, errors } = await newPhone(h, { preset: { ...UNLOCKED, settings: { language: 'en', auto_lock_secs: 120, backend_url: 'https://ikd.example.go.id', verifier_url: 'https://periksa.example.co.id' } }, scale: 1 });
  try {
    await toConsent(page, BANK);
    assert.equal(await text(page, 'consent-trust'), 'Registered');
    assert.match(await text(page, 'consent-field-nama'), /Name\s+required/);
    assert.match(await text(page, 'consent-field-nomor_kk'), /optional/);
    await page.evaluate(async () => { await document.fonts?.ready; });
    await page.screenshot({ path: join(shots, 'consent-en-360x800.png') });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
