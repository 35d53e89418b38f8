// An in-page fake of the Tauri shell (every command of gen/COMMANDS.md, checked against
// the generated gen/ts/commands.ts by `npm run check`), for the
// Playwright phone tests and for trying the UI in a plain browser. Bundled to an IIFE and
// injected before the app loads.
import { mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import type {
  AppState, CommandName, EnrollmentView, HistoryEntry, HistoryKind, KkView, KtpView, LockoutView,
  NikInfo, SelfieView, Settings, Stage, UiError, ErrorCode, ConsentView, PresentationOutcome,
  RegisterForm,
} from '../src/types';
import { NETWORK_COMMANDS } from '../src/net';
import { COMMAND_NAMES } from '../src/types';

const NIK = '1671014509900001';

class Fail {
  constructor(public e: UiError) {}
}
function fail(code: ErrorCode, detail: Record<string, unknown> | null = null): never {
  throw new Fail({ code, message: `fake: ${code}`, detail });
}

type S = {
  stage: Stage;
  enrollment: EnrollmentView | null;
  settings: Settings;
  pin: string | null;
  failures: number;
  lockedUntil: number | null;
  selfie: string | null;
  polls: number;
  approvedAt: number;
  codeAttempts: number;
  history: HistoryEntry[];
  wiped: boolean;
  resetPending: boolean;
  /** The kept registration form (save_draft). */
  draft: RegisterForm | null;
  /** Whether the wallet keeps a selfie taken and not yet sent (process_selfie; a submit or
   * a Lupa PIN request sends it). Unset: kept before the registration's submit. */
  kept?: boolean;
  /** Whether the last Lupa PIN request went with a selfie. */
  resetSelfie?: boolean;
  /** The link to the backend: `ok`, `offline` (every network command fails so), `hang`
   * (network commands wait for __fake.release() or cancel_network). */
  net: 'ok' | 'offline' | 'hang';
  /** Submits that reached the "server", and cancels asked. */
  submits: number;
  cancels: number;
};

const s: S = {
  stage: 'welcome',
  enrollment: null,
  settings: { language: 'id', auto_lock_secs: 120, backend_url: 'https://ikd.example.go.id', verifier_url: 'https://periksa.example.co.id' },
  pin: null,
  failures: 0,
  lockedUntil: null,
  selfie: null,
  polls: 0,
  approvedAt: 0,
  codeAttempts: 5,
  history: [],
  wiped: false,
  resetPending: false,
  draft: null,
  net: 'ok',
  submits: 0,
  cancels: 0,
};

/** Network commands waiting while the link hangs: resolve(true) lets one go on,
 * resolve(false) cancels it. */
const hung: Array<(go: boolean) => void> = [];
async function link(cmd: CommandName): Promise<void> {
  if (!NETWORK_COMMANDS.has(cmd)) return;
  if (s.net === 'hang') {
    const go = await new Promise<boolean>((r) => hung.push(r));
    if (!go) fail('cancelled');
  }
  if (s.net === 'offline') fail('offline');
}

// Tests may preset the state (kept across a reload).
try {
  const init = sessionStorage.getItem('ikd-fake');
  if (init) Object.assign(s, JSON.parse(init));
} catch { /* no storage */ }

const log = (kind: HistoryKind, detail: string | null = null) => {
  s.history.unshift({ at: new Date().toISOString(), kind, detail });
};

function lockout(): LockoutView | null {
  if (s.failures === 0 && !s.lockedUntil) return null;
  const left = s.lockedUntil ? Math.max(0, Math.ceil((s.lockedUntil - Date.now()) / 1000)) : 0;
  return {
    failures: s.failures,
    attempts_left: Math.max(0, 10 - s.failures),
    locked_until: s.lockedUntil && left > 0 ? new Date(s.lockedUntil).toISOString() : null,
    retry_after_secs: left > 0 ? left : null,
  };
}

// Bagikan data: the link decides the request (`…unknown…`: an unregistered verifier,
// `…nomatch…`: nothing held answers, `…age…`: age only).
let pending: ConsentView | null = null;
/** Periksa KTP: the check started last and how often its result was asked. */
let checking: { id: string; check: string; polls: number } | null = null;
/** A tiny PNG standing in for the verifier's QR. */
const QR_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==';
function consentFor(link: string): ConsentView {
  if (!/^openid4vp:\/\//.test(link)) fail('qr_invalid', { reason: 'malformed' });
  const unknown = link.includes('unknown');
  const verifier = {
    name: unknown ? 'Toko Tidak Dikenal' : 'Bank Contoh Tbk',
    host: unknown ? 'verifier.example.net' : 'verifikasi.bank.example.co.id',
    client_id: 'x509_hash:abc',
    trust: unknown ? 'unknown' as const : 'registered' as const,
    trust_detail: null,
  };
  if (link.includes('nomatch')) return { verifier, purpose: null, credentials: [], can_share: false, response_mode: 'direct_post' };
  const fields = link.includes('age')
    ? [
      { path: 'age_equal_or_over.17', name: 'age_equal_or_over', values: ['true'], image: false, required: true },
      { path: 'foto', name: 'foto', values: [photo()], image: true, required: true },
    ]
    : [
      { path: 'nama', name: 'nama', values: ['SITI RAHMAWATI'], image: false, required: true },
      { path: 'nik', name: 'nik', values: [NIK], image: false, required: true },
      { path: 'foto', name: 'foto', values: [photo()], image: true, required: true },
      { path: 'alamat', name: 'alamat', values: ['JL. MERDEKA NO. 17, RT 002/RW 005'], image: false, required: true },
    ];
  const credentials = [{ query_id: 'ktp', document: 'ktp', required: true, fields }];
  if (!link.includes('age')) {
    credentials.push({ query_id: 'kk', document: 'kk', required: false, fields: [
      { path: 'nomor_kk', name: 'nomor_kk', values: ['1671010101090001'], image: false, required: false },
    ] });
  }
  return {
    verifier,
    purpose: link.includes('age') ? 'Memastikan usia pembeli 17 tahun ke atas' : 'Pembukaan rekening tabungan',
    credentials, can_share: true, response_mode: 'direct_post.jwt',
  };
}
function outcome(v: ConsentView, shared: string[], declined: boolean): PresentationOutcome {
  return { verifier: v.verifier, shared, declined, status: 200, redirect_uri: null, verifier_error: null };
}
const whoLine = (v: ConsentView, shared: string[]) => `${v.verifier.name} (${v.verifier.host})${shared.length ? `: ${shared.join(', ')}` : ''}`;

function appState(): AppState {
  return {
    stage: s.stage,
    enrollment: s.enrollment,
    lockout: lockout(),
    settings: { ...s.settings },
    dev_build: true,
    documents_wiped: s.wiped,
    pin_reset_pending: s.resetPending,
    key_store: 'os',
  };
}

function checkNik(nik: string): NikInfo {
  const d = String(nik).replace(/[\s.-]/g, '');
  if (!/^\d+$/.test(d)) fail('invalid_nik', { reason: 'non_digit' });
  if (d.length !== 16) fail('invalid_nik', { reason: 'length', digits: d.length });
  if (d.endsWith('0000')) fail('invalid_nik', { reason: 'serial_zero' });
  if (d.startsWith('99')) fail('invalid_nik', { reason: 'unknown_province', province: d.slice(0, 2) });
  let day = parseInt(d.slice(6, 8), 10);
  const female = day > 40;
  if (female) day -= 40;
  const month = parseInt(d.slice(8, 10), 10);
  if (day < 1 || day > 31 || month < 1 || month > 12) fail('invalid_nik', { reason: 'impossible_date' });
  const yy = parseInt(d.slice(10, 12), 10);
  const year = yy > 26 ? 1900 + yy : 2000 + yy;
  const known = d.startsWith('167101');
  return {
    nik: d,
    province: { code: d.slice(0, 2), name: d.startsWith('16') ? 'Sumatera Selatan' : null },
    regency: { code: d.slice(0, 4), name: d.startsWith('1671') ? 'Kota Palembang' : null },
    district: { code: d.slice(0, 6), name: known ? 'Ilir Barat Dua' : null },
    birth_date: `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
    sex: female ? 'female' : 'male',
    serial: d.slice(12),
    warnings: known ? [] : ['unknown_district'],
  };
}

function loadImage(b64: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Fail({ code: 'image_invalid', message: 'fake: not an image', detail: null }));
    const mime = b64.startsWith('iVBOR') ? 'image/png' : 'image/jpeg';
    img.src = `data:${mime};base64,${b64}`;
  });
}

async function processSelfie(b64: string): Promise<SelfieView> {
  if (b64.length > 14_000_000) fail('image_too_large');
  const img = await loadImage(b64);
  const canvas = document.createElement('canvas');
  canvas.width = 600;
  canvas.height = 800;
  const c = canvas.getContext('2d');
  if (!c) fail('internal');
  // cover-crop to 3:4
  const r = Math.max(600 / img.width, 800 / img.height);
  const w = img.width * r;
  const h = img.height * r;
  c.drawImage(img, (600 - w) / 2, (800 - h) / 2, w, h);
  const px = c.getImageData(0, 0, 600, 800).data;
  let sum = 0;
  for (let i = 0; i < px.length; i += 16) sum += 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
  const brightness = sum / (px.length / 16);
  const sharpness = 142.5;
  const verdicts: SelfieView['verdicts'] = [];
  if (brightness < 50) verdicts.push({ kind: 'too_dark', brightness, min: 50 });
  if (brightness > 215) verdicts.push({ kind: 'too_bright', brightness, max: 215 });
  const jpeg = canvas.toDataURL('image/jpeg', 0.85).split(',')[1];
  s.selfie = jpeg;
  return {
    preview_jpeg: jpeg, width: 600, height: 800, bytes: Math.round((jpeg.length * 3) / 4),
    brightness, sharpness, verdicts, acceptable: verdicts.length === 0,
  };
}

/** A drawn portrait for states preset without a selfie. */
function photo(): string {
  if (s.selfie) return s.selfie;
  const c = document.createElement('canvas');
  c.width = 300;
  c.height = 400;
  const g = c.getContext('2d');
  if (!g) return '';
  g.fillStyle = '#dfe7ee';
  g.fillRect(0, 0, 300, 400);
  g.fillStyle = '#5b6f82';
  g.beginPath();
  g.arc(150, 160, 70, 0, Math.PI * 2);
  g.fill();
  g.beginPath();
  g.ellipse(150, 400, 130, 150, 0, Math.PI, 0);
  g.fill();
  s.selfie = c.toDataURL('image/jpeg', 0.85).split(',')[1];
  return s.selfie;
}

function ktp(): KtpView {
  return {
    verified: true,
    issuer: 'https://ikd.example.go.id',
    ktp: {
      nik: NIK, nama: 'SITI RAHMAWATI', tempat_lahir: 'PALEMBANG', tanggal_lahir: '1990-09-05',
      jenis_kelamin: 'PEREMPUAN', golongan_darah: 'O', alamat: 'JL. MERDEKA NO. 12', rt_rw: '004/002',
      kel_desa: '26 ILIR', kecamatan: 'ILIR BARAT DUA', kabupaten_kota: 'KOTA PALEMBANG',
      provinsi: 'SUMATERA SELATAN', agama: 'ISLAM', status_perkawinan: 'KAWIN', pekerjaan: 'GURU',
      kewarganegaraan: 'WNI', berlaku_hingga: 'SEUMUR HIDUP', foto: photo(),
      tempat_terbit: 'KOTA PALEMBANG', tanggal_terbit: '2012-10-17',
    },
  };
}

function kk(): KkView {
  const base = {
    agama: 'ISLAM', kewarganegaraan: 'WNI', paspor: null, kitap: null, golongan_darah: 'O',
  };
  return {
    verified: true,
    issuer: 'https://ikd.example.go.id',
    kk: {
      nomor_kk: '1671012003150007', kepala_keluarga: 'AHMAD FAUZI', alamat: 'JL. MERDEKA NO. 12',
      rt_rw: '004/002', kel_desa: '26 ILIR', kecamatan: 'ILIR BARAT DUA', kabupaten_kota: 'KOTA PALEMBANG',
      provinsi: 'SUMATERA SELATAN', kode_pos: '30136', tanggal_terbit: '2021-03-20',
      anggota: [
        { ...base, nama: 'AHMAD FAUZI', nik: '1671011203870003', jenis_kelamin: 'LAKI-LAKI', tempat_lahir: 'PALEMBANG', tanggal_lahir: '1987-03-12', pendidikan: 'DIPLOMA IV/STRATA I', pekerjaan: 'WIRASWASTA', golongan_darah: 'A', status_perkawinan: 'KAWIN', tanggal_perkawinan: '2015-02-14', hubungan: 'KEPALA KELUARGA', ayah: 'ZAINAL ABIDIN', ibu: 'HASNAH' },
        { ...base, nama: 'SITI RAHMAWATI', nik: NIK, jenis_kelamin: 'PEREMPUAN', tempat_lahir: 'PALEMBANG', tanggal_lahir: '1990-09-05', pendidikan: 'DIPLOMA IV/STRATA I', pekerjaan: 'GURU', status_perkawinan: 'KAWIN', tanggal_perkawinan: '2015-02-14', hubungan: 'ISTRI', ayah: 'MUHAMMAD YUSUF', ibu: 'AISYAH' },
        { ...base, nama: 'RIZKY PRATAMA', nik: '1671010711160001', jenis_kelamin: 'LAKI-LAKI', tempat_lahir: 'PALEMBANG', tanggal_lahir: '2016-11-07', pendidikan: 'TAMAT SD/SEDERAJAT', pekerjaan: 'PELAJAR/MAHASISWA', status_perkawinan: 'BELUM KAWIN', tanggal_perkawinan: null, hubungan: 'ANAK', ayah: 'AHMAD FAUZI', ibu: 'SITI RAHMAWATI' },
        { ...base, nama: 'NURUL HIDAYAH', nik: '1671016204190002', jenis_kelamin: 'PEREMPUAN', tempat_lahir: 'PALEMBANG', tanggal_lahir: '2019-04-22', pendidikan: 'TIDAK/BELUM SEKOLAH', pekerjaan: 'BELUM/TIDAK BEKERJA', golongan_darah: '-', status_perkawinan: 'BELUM KAWIN', tanggal_perkawinan: null, hubungan: 'ANAK', ayah: 'AHMAD FAUZI', ibu: 'SITI RAHMAWATI' },
      ],
    },
  };
}

function pinPolicy(pin: string): void {
  if (!/^\d{6}$/.test(pin)) fail('pin_policy', { reason: 'length' });
  if (/^(\d)\1{5}$/.test(pin)) fail('pin_policy', { reason: 'repeated' });
  const asc = '01234567890';
  const desc = '09876543210';
  if (asc.includes(pin) || desc.includes(pin)) fail('pin_policy', { reason: 'sequence' });
  if (['050990', '051990', '199009', '900905', '090590'].includes(pin)) fail('pin_policy', { reason: 'birth_date' });
}

function needUnlocked(): void {
  if (s.stage === 'locked') fail('vault_locked');
  if (s.stage !== 'unlocked') fail('invalid_state');
}

function approved(): EnrollmentView {
  s.approvedAt = Date.now();
  return {
    ...(s.enrollment as EnrollmentView),
    status: 'approved',
    code_expires_at: new Date(Date.now() + 23 * 3600_000 + 59 * 60_000).toISOString(),
    code_attempts_left: s.codeAttempts,
  };
}

/** The progress channel of the submit running now (`__fake.upload` feeds it). */
let uploadChannel: { onmessage: (p: { sent: number; total: number }) => void } | null = null;

async function handle(cmd: CommandName, a: Record<string, unknown>): Promise<unknown> {
  if (cmd === 'submit_enrollment') uploadChannel = (a.onProgress as typeof uploadChannel) ?? null;
  await link(cmd);
  switch (cmd) {
    case 'cancel_network':
      s.cancels += 1;
      hung.splice(0).forEach((r) => r(false));
      return null;
    case 'save_draft': s.draft = a.form as RegisterForm; return null;
    case 'draft': {
      const kept = s.kept ?? (s.stage === 'welcome' || s.stage === 'draft');
      const view = s.selfie && kept
        ? { preview_jpeg: s.selfie, width: 600, height: 800, bytes: Math.round((s.selfie.length * 3) / 4), brightness: 128, sharpness: 142.5, verdicts: [], acceptable: true }
        : null;
      return { form: s.stage === 'welcome' || s.stage === 'draft' ? s.draft : null, selfie: view };
    }
    case 'app_state': return appState();
    case 'check_nik': return checkNik(String(a.nik));
    case 'check_email': {
      const e = String(a.email).trim().toLowerCase();
      if ((e.match(/@/g) ?? []).length !== 1) fail('invalid_email', { reason: 'at_count' });
      if (!/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/.test(e)) fail('invalid_email', { reason: 'domain_no_dot' });
      return e;
    }
    case 'check_phone': {
      const p = String(a.phone).replace(/[\s-]/g, '');
      const m = /^(?:\+62|62|0)(8\d{8,11})$/.exec(p);
      if (!m) fail('invalid_phone', { reason: /^0[1-79]/.test(p) ? 'not_mobile' : 'length' });
      return `+62${m[1]}`;
    }
    case 'process_selfie':
      if (s.stage === 'welcome') s.stage = 'draft';
      s.kept = true;
      return processSelfie(String(a.imageB64));
    case 'submit_enrollment': {
      const f = a.form as { nik: string; email: string; consent: boolean };
      if (!f.consent) fail('consent_required');
      if (!s.selfie) fail('invalid_state');
      checkNik(f.nik);
      const [user, dom] = f.email.split('@');
      // The whole body handed on (a 97 KB request), as the shell reports it.
      uploadChannel?.onmessage({ sent: 99_328, total: 99_328 });
      uploadChannel = null;
      s.submits += 1;
      s.draft = null;
      s.kept = false;
      s.stage = 'enrolling';
      s.enrollment = {
        status: 'submitted', desk_name: null, reject_reason: null, code_expires_at: null,
        code_attempts_left: null, email_masked: `${user[0]}***@${dom}`, desk_confirm_code: null, pin_reset_usable_at: null,
      };
      log('registered');
      return s.enrollment;
    }
    case 'decode_qr_image': return 'IKD-DESK:eyJkZXNrIjoibG9rZXQtMiJ9';
    case 'scan_desk_qr': {
      const text = String(a.text);
      if (!text.startsWith('IKD-DESK:')) fail('qr_invalid');
      if (!s.enrollment) fail('invalid_state');
      s.enrollment = { ...s.enrollment, status: 'scanned', desk_name: 'Loket 2 Disdukcapil Kota Palembang', desk_confirm_code: 'KTRW', pin_reset_usable_at: null };
      s.polls = 0;
      log('desk_scanned', 'Loket 2 Disdukcapil Kota Palembang');
      return s.enrollment;
    }
    case 'refresh_status': {
      if (!s.enrollment) fail('invalid_state');
      if (s.enrollment.status === 'scanned') {
        s.polls += 1;
        if (s.polls >= 2) {
          s.enrollment = approved();
          log('approved');
        }
      }
      return s.enrollment;
    }
    case 'resend_code': {
      if (!s.enrollment || s.enrollment.status !== 'approved') fail('invalid_state');
      const wait = Math.ceil(60 - (Date.now() - s.approvedAt) / 1000);
      if (wait > 0) fail('rate_limited', { retry_after_secs: wait });
      s.codeAttempts = 5;
      s.enrollment = approved();
      return s.enrollment;
    }
    case 'activate': {
      if (!s.enrollment || s.enrollment.status !== 'approved') fail('invalid_state');
      if (String(a.code) !== '123456') {
        s.codeAttempts -= 1;
        s.enrollment = { ...s.enrollment, code_attempts_left: s.codeAttempts };
        if (s.codeAttempts <= 0) fail('code_void');
        fail('code_wrong', { attempts_left: s.codeAttempts });
      }
      s.enrollment = { ...s.enrollment, status: 'activated' };
      s.stage = 'needs_pin';
      log('activated');
      return appState();
    }
    case 'check_pin': pinPolicy(String(a.pin)); return null;
    case 'set_pin': {
      if (s.stage !== 'needs_pin') fail('invalid_state');
      pinPolicy(String(a.pin));
      if (a.pin !== a.confirm) fail('pin_mismatch');
      s.pin = String(a.pin);
      s.stage = 'unlocked';
      log('pin_set');
      return appState();
    }
    case 'unlock': {
      if (s.stage !== 'locked') fail('invalid_state');
      if (s.lockedUntil && s.lockedUntil > Date.now()) fail('locked_out', lockout() as unknown as Record<string, unknown>);
      if (String(a.pin) !== s.pin) {
        s.failures += 1;
        log('unlock_failed');
        if (s.failures >= 10) {
          s.wiped = true;
          s.failures = 0;
          log('documents_wiped');
          fail('vault_wiped');
        }
        if (s.failures >= 5) s.lockedUntil = Date.now() + 30_000 * (s.failures - 4);
        fail('wrong_pin', lockout() as unknown as Record<string, unknown>);
      }
      s.failures = 0;
      s.lockedUntil = null;
      s.stage = 'unlocked';
      log('unlocked');
      return appState();
    }
    case 'lock':
      if (s.stage === 'unlocked') s.stage = 'locked';
      return appState();
    case 'touch': return null;
    case 'home': needUnlocked(); return { nama: 'SITI RAHMAWATI', foto: photo(), nik_masked: '1671********0001' };
    case 'ktp': needUnlocked(); return ktp();
    case 'kk': needUnlocked(); return kk();
    case 'history': return s.history;
    case 'presentation_request': needUnlocked(); pending = consentFor(String(a.link)); return pending;
    case 'present': {
      needUnlocked();
      if (!pending) fail('invalid_state');
      const v = pending!;
      if (!v.can_share) fail('no_documents');
      if (String(a.pin) !== s.pin) {
        s.failures += 1;
        log('unlock_failed');
        fail('wrong_pin', lockout() as unknown as Record<string, unknown>);
      }
      s.failures = 0;
      const all = v.credentials.flatMap((c) => c.fields);
      const choices = a.choices as string[] | null;
      const shared = all.filter((f) => f.required || !choices || choices.includes(f.path)).map((f) => f.path);
      pending = null;
      log('presented', whoLine(v, shared));
      return outcome(v, shared, false);
    }
    case 'decline_presentation': {
      if (!pending) fail('invalid_state');
      const v = pending!;
      pending = null;
      log('presentation_declined', whoLine(v, []));
      return outcome(v, [], true);
    }
    case 'verify_pin': {
      needUnlocked();
      if (String(a.pin) !== s.pin) {
        s.failures += 1;
        log('unlock_failed');
        fail('wrong_pin', lockout() as unknown as Record<string, unknown>);
      }
      s.failures = 0;
      return null;
    }
    case 'change_pin': {
      needUnlocked();
      if (String(a.oldPin) !== s.pin) fail('wrong_pin', { failures: 1, attempts_left: 9, locked_until: null, retry_after_secs: null });
      pinPolicy(String(a.newPin));
      s.pin = String(a.newPin);
      log('pin_changed');
      return null;
    }
    case 'settings': return { ...s.settings };
    case 'set_settings': {
      const n = a.settings as Settings;
      if (!/^https:\/\//.test(n.backend_url) && !/^http:\/\/(localhost|127\.0\.0\.1)/.test(n.backend_url)) fail('insecure_url');
      s.settings = { ...n, language: n.language === 'en' ? 'en' : 'id' };
      return { ...s.settings };
    }
    case 'refresh_documents': needUnlocked(); s.wiped = false; log('documents_refreshed'); return null;
    case 'release_device': {
      log('device_released');
      Object.assign(s, { stage: 'welcome', enrollment: null, pin: null, selfie: null, failures: 0, lockedUntil: null, wiped: false });
      return appState();
    }
    case 'forgot_pin': {
      if (s.stage !== 'locked') fail('invalid_state');
      s.resetSelfie = Boolean(s.kept && s.selfie);
      s.kept = false;
      s.resetPending = true;
      s.codeAttempts = 5;
      s.enrollment = {
        status: 'activated', desk_name: null, reject_reason: null,
        code_expires_at: new Date(Date.now() + 23 * 3600_000 + 59 * 60_000).toISOString(),
        code_attempts_left: 5, email_masked: 's***@example.com', desk_confirm_code: null, pin_reset_usable_at: null,
      };
      log('pin_reset_requested');
      return s.enrollment;
    }
    case 'reset_pin_with_code': {
      if (!s.resetPending || !s.enrollment) fail('invalid_state');
      if (String(a.code) !== '654321') {
        s.codeAttempts -= 1;
        s.enrollment = { ...s.enrollment!, code_attempts_left: s.codeAttempts };
        fail('code_wrong', { attempts_left: s.codeAttempts });
      }
      s.resetPending = false;
      s.wiped = false;
      s.failures = 0;
      s.lockedUntil = null;
      s.stage = 'needs_pin';
      return appState();
    }
    case 'reset_enrollment': s.stage = 'welcome'; s.enrollment = null; s.selfie = null; return appState();
    // Periksa KTP: `identitas` stays pending (the QR state), `usia17` is valid and `kk`
    // declined at the first poll.
    case 'start_check': {
      needUnlocked();
      const check = String(a.check);
      if (!['identitas', 'usia17', 'kk'].includes(check)) fail('invalid_state');
      checking = { id: `chk-${check}`, check, polls: 0 };
      return { id: checking.id, check, url: `openid4vp://?client_id=x509_hash%3Afake&request_uri=https%3A%2F%2Fverifier.example%2Frequest%2F${checking.id}`, qr_png_b64: QR_PNG };
    }
    case 'check_result': {
      if (!checking || checking.id !== String(a.id)) fail('qr_expired');
      const c = checking!;
      c.polls += 1;
      const pendingView = { status: 'pending', portrait_b64: null, fields: [], reason: null };
      if (c.check === 'identitas') return pendingView;
      checking = null;
      if (c.check === 'kk') { log('checked', 'kk: declined'); return { status: 'declined', portrait_b64: null, fields: [], reason: 'access_denied' }; }
      log('checked', 'usia17: valid');
      return { status: 'valid', portrait_b64: photo(), fields: [{ path: 'age_equal_or_over.17', value: 'true' }], reason: null };
    }
    default: {
      // Every command has its case: a new one in commands.rs fails `npm run check` here.
      const unhandled: never = cmd;
      return fail('internal', { command: unhandled });
    }
  }
}

const isCommand = (cmd: string): cmd is CommandName =>
  (COMMAND_NAMES as readonly string[]).includes(cmd);

mockWindows('main');
mockIPC(async (cmd, args) => {
  try {
    if (!isCommand(cmd)) fail('internal', { command: cmd });
    return await handle(cmd, (args ?? {}) as Record<string, unknown>);
  } catch (e) {
    if (e instanceof Fail) throw e.e;
    throw { code: 'internal', message: String(e), detail: null };
  }
}, { shouldMockEvents: true });

declare global {
  interface Window { __fake: { state: S; emitLocked: () => Promise<void>; release: () => void; persist: () => void; upload: (sent: number, total: number) => void } }
}
window.__fake = {
  state: s,
  /** Keeps the fake's state for the next load (an app restart). */
  persist() { sessionStorage.setItem('ikd-fake', JSON.stringify({ ...s, net: 'ok' })); },
  /** Lets the network commands waiting on a hung link go on (with the link as it is then). */
  release() { hung.splice(0).forEach((r) => r(true)); },
  /** Reports upload progress of the submit in flight (bytes handed to the network). */
  upload(sent: number, total: number) { uploadChannel?.onmessage({ sent, total }); },
  async emitLocked() {
    if (s.stage === 'unlocked') s.stage = 'locked';
    await emit('locked', appState());
  },
};
