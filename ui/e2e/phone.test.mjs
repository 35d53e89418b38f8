// Phone-size journey (360×800) in Chromium against a fake shell (mockIPC), with screenshots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startHarness, newPhone as phone, repoRoot, selfie, id, screen, pinEnter } from './harness.mjs';

const shots = join(repoRoot, 'artifacts', 'ui-phone');

let h;

before(async () => {
  await mkdir(shots, { recursive: true });
  h = await startHarness();
});

after(async () => {
  await h?.close();
});

const newPhone = () => phone(h);
let shotNo = 0;
async function shot(page, name) {
  shotNo += 1;
  await page.evaluate(async () => { await document.fonts?.ready; window.scrollTo(0, 0); });
  await page.screenshot({ path: join(shots, `${String(shotNo).padStart(2, '0')}-${name}.png`), fullPage: true });
}
async function noPageOverflow(page) {
  return page.evaluate(() => {
    const doc = document.documentElement;
    return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, bodyScroll: document.body.scrollWidth };
  });
}

test('whole resident journey at 360×800', async () => {
  const { context, page, errors } = await newPhone();

  // 1. Welcome
  await screen(page, 'welcome');
  await assert.doesNotReject(id(page, 'btn-daftar').waitFor());
  await shot(page, 'welcome');
  await id(page, 'btn-daftar').click();

  // 2. Register
  await screen(page, 'register');
  await id(page, 'input-nik').fill('1671014509900001');
  await page.getByText('Terdaftar di: Kec. Ilir Barat Dua, Kota Palembang, Sumatera Selatan').waitFor();
  await id(page, 'input-email').fill('siti.rahmawati@example.com');
  await id(page, 'input-phone').fill('0812 3456 7890');
  await id(page, 'input-phone').blur();
  await page.getByText('+6281234567890').waitFor();
  assert.equal(await id(page, 'btn-register-next').isDisabled(), true, 'next needs consent');
  await id(page, 'check-consent').check();
  await shot(page, 'register');

  // 200% text: no horizontal overflow of the page
  await page.evaluate(() => { document.documentElement.style.fontSize = '200%'; });
  const o1 = await noPageOverflow(page);
  assert.ok(o1.scrollWidth <= o1.clientWidth, `register overflows at 200%: ${JSON.stringify(o1)}`);
  await shot(page, 'register-200pct');
  await page.evaluate(() => { document.documentElement.style.fontSize = ''; });

  await id(page, 'btn-register-next').click();

  // 3. Selfie from a file
  await screen(page, 'selfie');
  await id(page, 'input-selfie-file').setInputFiles(selfie);
  await id(page, 'selfie-preview').waitFor();
  await page.getByText('Foto jelas dan siap dikirim.').waitFor();
  await shot(page, 'selfie');
  await id(page, 'btn-selfie-accept').click();

  // 4. Submit, then visit the officer
  await screen(page, 'submitted');
  await shot(page, 'submit-review');
  await id(page, 'btn-submit').click();
  await id(page, 'btn-scan-qr').waitFor();
  await page.getByText('Kunjungi petugas Dukcapil').first().waitFor();
  await shot(page, 'visit-officer');
  await id(page, 'btn-scan-qr').click();

  // 5. Scan on desktop: paste text (a wrong one first)
  await screen(page, 'scan');
  await id(page, 'input-qr-text').fill('hello');
  await id(page, 'btn-qr-text-submit').click();
  await id(page, 'error-banner').waitFor();
  assert.match(await id(page, 'error-banner').innerText(), /QR tidak dikenali/);
  await shot(page, 'scan-error');
  await id(page, 'input-qr-text').fill('IKD-DESK:eyJkZXNrIjoibG9rZXQtMiJ9');
  await id(page, 'btn-qr-text-submit').click();

  // 6. Status: scanned → approved (polling)
  await screen(page, 'status');
  await shot(page, 'status-scanned');
  await page.getByText('Pendaftaran disetujui!', { exact: false }).waitFor({ timeout: 15000 });
  assert.match(await id(page, 'status-text').innerText(), /s\*\*\*@example\.com/);
  await shot(page, 'status-approved');
  await id(page, 'btn-resend').click();
  await id(page, 'resend-wait').waitFor();
  assert.match(await id(page, 'resend-wait').innerText(), /Kirim ulang dapat dilakukan dalam \d+ detik/);
  await id(page, 'btn-enter-code').click();

  // 7. Code: a wrong code by keypad, then paste the right one
  await screen(page, 'code');
  assert.match(await id(page, 'code-validity').innerText(), /Berlaku 23 jam 5\d menit lagi/);
  assert.match(await id(page, 'code-attempts').innerText(), /Sisa percobaan: 5/);
  for (const d of '111111') await id(page, `keypad-${d}`).click();
  await id(page, 'btn-code-submit').click();
  await id(page, 'error-banner').waitFor();
  assert.match(await id(page, 'code-attempts').innerText(), /Sisa percobaan: 4/);
  await id(page, 'code-box-0').focus();
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.setData('text', '123 456');
    document.querySelector('[data-testid=code-box-0]').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  assert.equal(await id(page, 'code-box-5').inputValue(), '6');
  await shot(page, 'code');
  await id(page, 'btn-code-submit').click();

  // 8. Create PIN: a sequence is refused, then a mismatch, then OK
  await screen(page, 'create-pin');
  await pinEnter(page, '123456');
  await page.getByText('PIN tidak boleh berurutan.').waitFor();
  await shot(page, 'create-pin-policy');
  await pinEnter(page, '271828');
  await page.getByText('Masukkan PIN sekali lagi.').waitFor();
  await pinEnter(page, '271829');
  await page.getByText('PIN tidak sama. Silakan ulangi.').waitFor();
  await pinEnter(page, '271828');
  await page.getByText('Masukkan PIN sekali lagi.').waitFor();
  await pinEnter(page, '271828');

  // 9. Home
  await screen(page, 'home');
  await id(page, 'home-name').waitFor();
  assert.equal(await id(page, 'home-name').innerText(), 'SITI RAHMAWATI');
  assert.equal(await id(page, 'home-nik').innerText(), '1671********0001');
  await shot(page, 'home');

  // 11. KTP
  await id(page, 'tile-dokumen').click();
  await screen(page, 'ktp');
  await id(page, 'ktp-card').waitFor();
  assert.equal(await id(page, 'ktp-nik').innerText(), '1671014509900001');
  assert.equal(await id(page, 'ktp-nama').innerText(), 'SITI RAHMAWATI');
  assert.match(await id(page, 'ktp-verified').innerText(), /Terverifikasi/);
  assert.match(await id(page, 'ktp-card').innerText(), /PALEMBANG, 05-09-1990/);
  assert.match(await id(page, 'ktp-card').innerText(), /PROVINSI SUMATERA SELATAN/);
  await page.getByText('Tampilan data terverifikasi — bukan dokumen resmi').waitFor();
  await shot(page, 'ktp');
  await page.evaluate(() => { document.documentElement.style.fontSize = '200%'; });
  const o2 = await noPageOverflow(page);
  assert.ok(o2.scrollWidth <= o2.clientWidth, `ktp overflows at 200%: ${JSON.stringify(o2)}`);
  await shot(page, 'ktp-200pct');
  await page.evaluate(() => { document.documentElement.style.fontSize = ''; });
  await id(page, 'btn-ktp-zoom').click();
  await page.screenshot({ path: join(shots, `${String(++shotNo).padStart(2, '0')}-ktp-zoomed.png`) });
  await id(page, 'btn-ktp-unzoom').click();
  await id(page, 'btn-ktp-large').click();
  assert.match(await id(page, 'ktp-large').innerText(), /Tempat\/Tgl Lahir\s+PALEMBANG, 05-09-1990/);
  await shot(page, 'ktp-large');
  await id(page, 'btn-ktp-large').click();
  await id(page, 'ktp-card').waitFor();
  assert.equal(await id(page, 'ktp-issuer').innerText(), 'Diterbitkan oleh Ditjen Dukcapil, Kementerian Dalam Negeri');

  // 12. KK (from the KTP screen)
  await id(page, 'btn-open-kk').click();
  await screen(page, 'kk');
  await id(page, 'kk-members').waitFor();
  assert.equal(await id(page, 'kk-nomor').innerText(), '1671012003150007');
  assert.equal(await id(page, 'kk-kepala').innerText(), 'AHMAD FAUZI');
  const names = await page.locator('[data-testid=kk-members] h4').allInnerTexts();
  assert.deepEqual(names, ['1. AHMAD FAUZI', '2. SITI RAHMAWATI', '3. RIZKY PRATAMA', '4. NURUL HIDAYAH']);
  assert.match(await id(page, 'kk-member-1').innerText(), /KEPALA KELUARGA/);
  await id(page, 'btn-kk-tables').click();
  const t1 = await id(page, 'kk-table-1').innerText();
  for (const n of ['AHMAD FAUZI', 'SITI RAHMAWATI', 'RIZKY PRATAMA', 'NURUL HIDAYAH']) assert.ok(t1.includes(n), n);
  assert.match(await id(page, 'kk-table-2').innerText(), /KEPALA KELUARGA/);
  await page.getByText('Dikeluarkan Tanggal: 20-03-2021').waitFor();
  const o3 = await noPageOverflow(page);
  assert.ok(o3.scrollWidth <= o3.clientWidth, `kk page overflows: ${JSON.stringify(o3)}`);
  await shot(page, 'kk');
  await id(page, 'btn-back').click();

  // 13. History
  await screen(page, 'home');
  await id(page, 'tile-histori').click();
  await screen(page, 'history');
  await id(page, 'history-list').waitFor();
  const hist = await id(page, 'history-list').innerText();
  assert.match(hist, /PIN dibuat/);
  assert.match(hist, /Pendaftaran disetujui/);
  await shot(page, 'history');
  await id(page, 'btn-back').click();

  // 14. Settings: switch to English and back, release dialog opens and cancels
  await id(page, 'tile-pengaturan').click();
  await screen(page, 'settings');
  await id(page, 'input-backend-url').waitFor();
  await shot(page, 'settings');
  await id(page, 'select-language').selectOption('en');
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  await shot(page, 'settings-en');
  await id(page, 'select-language').selectOption('id');
  await page.getByRole('heading', { name: 'Pengaturan' }).waitFor();
  await id(page, 'select-autolock').selectOption('300');
  await page.getByText('Tersimpan.').first().waitFor();
  // change PIN: the old one is checked first (a wrong one is told at once), then the new one twice
  await id(page, 'btn-change-pin').click();
  await page.getByText('Masukkan PIN lama.').waitFor();
  await pinEnter(page, '000000');
  await page.getByText('PIN salah.').waitFor();
  assert.match(await id(page, 'pin-attempts').innerText(), /Sisa percobaan: 9/);
  await pinEnter(page, '271828');
  await page.getByText('Masukkan PIN baru.').waitFor();
  await pinEnter(page, '314159');
  await page.getByText('Masukkan PIN baru sekali lagi.').waitFor();
  await shot(page, 'settings-change-pin');
  await pinEnter(page, '314159');
  await page.getByText('PIN berhasil diubah.').waitFor();
  await id(page, 'btn-release-device').click();
  await page.getByText('Lepas perangkat ini?').waitFor();
  await shot(page, 'settings-release-confirm');
  await id(page, 'btn-cancel-release').click();
  await id(page, 'btn-back').click();

  // lock → wrong PIN → right PIN
  await screen(page, 'home');
  await id(page, 'btn-lock').click();
  await screen(page, 'pin');
  await pinEnter(page, '000000');
  await id(page, 'pin-attempts').waitFor();
  assert.match(await id(page, 'pin-message').innerText(), /PIN salah\./);
  assert.match(await id(page, 'pin-attempts').innerText(), /Sisa percobaan: 9/);
  assert.match(await id(page, 'pin-progress').innerText(), /0 dari 6 digit/);
  await shot(page, 'pin-wrong');
  await pinEnter(page, '314159');
  await screen(page, 'home');

  // The shell's `locked` event shows the PIN pad.
  await page.evaluate(() => window.__fake.emitLocked());
  await screen(page, 'pin');
  await shot(page, 'pin-after-locked-event');

  assert.deepEqual(errors, []);
  await context.close();
});

test('lockout countdown disables the keys', async () => {
  const { context, page } = await newPhone();
  await screen(page, 'welcome');
  await page.evaluate(() => {
    sessionStorage.setItem('ikd-fake', JSON.stringify({ stage: 'locked', pin: '271828' }));
  });
  await page.reload();
  await screen(page, 'pin');
  for (let i = 0; i < 5; i++) await pinEnter(page, '000000');
  await id(page, 'pin-countdown').waitFor();
  assert.match(await id(page, 'pin-countdown').innerText(), /Coba lagi dalam 0:\d\d/);
  assert.equal(await id(page, 'pin-key-1').isDisabled(), true);
  await shot(page, 'pin-lockout');
  await context.close();
});

test('Lupa PIN with a fresh selfie: the photo survives a restart and goes with the request', async () => {
  const { context, page, errors } = await newPhone();
  await screen(page, 'welcome');
  await page.evaluate(() => {
    sessionStorage.setItem('ikd-fake', JSON.stringify({ stage: 'locked', pin: '271828' }));
  });
  await page.reload();
  await screen(page, 'pin');
  await id(page, 'btn-forgot-pin').click();
  await screen(page, 'forgot-pin');
  // No selfie yet: taking one is the first choice, the desk visit the other.
  await page.getByText(/Tanpa swafoto, datanglah ke loket/).waitFor();
  assert.equal(await id(page, 'btn-reset-send').innerText(), 'Kirim tanpa swafoto');
  await id(page, 'btn-reset-selfie').click();
  await screen(page, 'reset-selfie');
  await id(page, 'input-selfie-file').setInputFiles(selfie);
  await id(page, 'selfie-preview').waitFor();
  await id(page, 'btn-selfie-accept').click();
  await screen(page, 'forgot-pin');
  await id(page, 'reset-selfie-thumb').waitFor();
  await page.getByText(/membandingkan swafoto Anda dengan foto KTP-el/).waitFor();
  assert.equal(await id(page, 'btn-reset-send').innerText(), 'Kirim kode ke email');
  await shot(page, 'forgot-pin-selfie');
  // An app restart before sending: the wallet still holds the photo.
  await page.evaluate(() => window.__fake.persist());
  await page.reload();
  await screen(page, 'pin');
  await id(page, 'btn-forgot-pin').click();
  await screen(page, 'forgot-pin');
  await id(page, 'reset-selfie-thumb').waitFor();
  await id(page, 'btn-reset-send').click();
  await screen(page, 'reset-code');
  assert.equal(await page.evaluate(() => window.__fake.state.resetSelfie), true);
  assert.deepEqual(errors, []);
  await context.close();
});

test('Lupa PIN after ten wrong PINs: code by email, new PIN, documents back', async () => {
  const { context, page, errors } = await newPhone();
  await screen(page, 'welcome');
  await page.evaluate(() => {
    sessionStorage.setItem('ikd-fake', JSON.stringify({ stage: 'locked', pin: '271828', failures: 9 }));
  });
  await page.reload();
  await screen(page, 'pin');
  await pinEnter(page, '000000');
  await id(page, 'btn-redownload').waitFor();
  await page.getByText(/dokumen di perangkat ini telah dihapus/).first().waitFor();
  await shot(page, 'pin-wiped');
  await id(page, 'btn-redownload').click();
  await screen(page, 'forgot-pin');
  await shot(page, 'forgot-pin');
  await id(page, 'btn-reset-send').click();
  await screen(page, 'reset-code');
  assert.match(await id(page, 'code-attempts').innerText(), /Sisa percobaan: 5/);
  for (const d of '111111') await id(page, `keypad-${d}`).click();
  await id(page, 'btn-reset-submit').click();
  await id(page, 'error-banner').waitFor();
  assert.match(await id(page, 'code-attempts').innerText(), /Sisa percobaan: 4/);
  assert.match(await id(page, 'error-banner').innerText(), /^Kode atur ulang PIN salah\./);
  await shot(page, 'reset-code-wrong');
  for (const d of '654321') await id(page, `keypad-${d}`).click();
  await id(page, 'btn-reset-submit').click();
  await screen(page, 'create-pin');
  await pinEnter(page, '582046');
  await page.getByText('Masukkan PIN sekali lagi.').waitFor();
  await pinEnter(page, '582046');
  await screen(page, 'home');
  assert.deepEqual(errors, []);
  await context.close();
});

test('register words typed errors and unknown regions politely', async () => {
  const { context, page, errors } = await newPhone();
  await screen(page, 'welcome');
  await id(page, 'btn-daftar').click();
  await screen(page, 'register');
  await id(page, 'input-nik').fill('167101450990000');
  assert.equal(await id(page, 'nik-info').innerText(), '15 dari 16 digit');
  await id(page, 'input-nik').fill('9901014509900001');
  await page.getByText('Kode provinsi pada NIK tidak dikenal.').waitFor();
  assert.equal(await id(page, 'input-nik').getAttribute('aria-invalid'), 'true');
  await id(page, 'input-nik').fill('1671994509900001');
  await page.getByText('Terdaftar di: Kota Palembang, Sumatera Selatan').waitFor();
  await page.getByText(/Sebagian wilayah pada NIK tidak kami kenali \(167199\)/).waitFor();
  await id(page, 'input-email').fill('siti@');
  await id(page, 'input-phone').fill('12345');
  await id(page, 'input-phone').blur();
  await page.getByText('Bagian setelah @ harus berisi domain lengkap, mis. contoh.com.').waitFor();
  await page.getByText('Jumlah digit nomor HP tidak sesuai.').waitFor();
  await id(page, 'input-phone').fill('0711 123456');
  await id(page, 'input-phone').blur();
  await page.getByText('Gunakan nomor seluler (diawali 08), bukan nomor telepon rumah.').waitFor();
  assert.equal(await id(page, 'btn-register-next').isDisabled(), true);
  await shot(page, 'register-errors');
  assert.deepEqual(errors, []);
  await context.close();
});

test('desktop window: home and KTP at 1280×800 in English', async () => {
  const context = await h.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', reducedMotion: 'reduce' });
  await context.addInitScript({ content: h.fake });
  const page = await context.newPage();
  await page.goto(h.server.url);
  await screen(page, 'welcome');
  await page.evaluate(() => sessionStorage.setItem('ikd-fake', JSON.stringify({
    stage: 'unlocked', pin: '271828', settings: { language: 'en', auto_lock_secs: 300, backend_url: 'https://ikd.example.go.id', verifier_url: 'https://periksa.example.co.id' },
  })));
  await page.reload();
  await screen(page, 'home');
  await page.getByText('Family Card (KK)').waitFor();
  await id(page, 'home-name').waitFor();
  await shot(page, 'desktop-home-en');
  await id(page, 'tile-dokumen').click();
  await id(page, 'ktp-card').waitFor();
  assert.match(await id(page, 'ktp-verified').innerText(), /Verified/);
  const o = await noPageOverflow(page);
  assert.ok(o.scrollWidth <= o.clientWidth, JSON.stringify(o));
  await shot(page, 'desktop-ktp-en');
  await context.close();
});
