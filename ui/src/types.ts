// Types shared with the Rust core. Every import of these types in ui/ goes through this file.
// Until ts-rs output lands in gen/ts/, this mirrors exactly core/src/view.rs, core/src/error.rs,
// core/src/credential/model.rs and core/src/wire.rs (EnrollmentStatusWire).
// To switch: replace this whole file with re-exports of the generated files, e.g.
//   export type { AppState } from '../../gen/ts/AppState';   (one line per type below)
// or `export * from '../../gen/ts'` if gen/ts gets an index.ts. Note: ts-rs maps u64 to
// `bigint` by default; `LockoutView.retry_after_secs` must be exported as `number`.

export type EnrollmentStatusWire = 'submitted' | 'scanned' | 'approved' | 'activated' | 'rejected' | 'expired';

export type ErrorCode =
  | 'invalid_nik' | 'invalid_kk' | 'invalid_email' | 'invalid_phone' | 'consent_required'
  | 'pin_policy' | 'pin_mismatch' | 'wrong_pin' | 'locked_out' | 'vault_wiped' | 'vault_locked'
  | 'vault_corrupt' | 'no_documents'
  | 'credential_invalid'
  | 'offline' | 'timeout' | 'server_busy' | 'rate_limited' | 'insecure_url' | 'not_found'
  | 'ineligible' | 'rejected' | 'code_wrong' | 'code_expired' | 'code_void' | 'qr_invalid'
  | 'qr_expired' | 'qr_used' | 'device_revoked'
  | 'invalid_state'
  | 'image_too_large' | 'image_invalid'
  | 'storage' | 'key_store' | 'internal';


export type UiError = { code: ErrorCode; message: string; detail: Record<string, unknown> | null };

export type RegionRef = { code: string; name: string | null };
export type Sex = 'male' | 'female';
export type NikInfo = {
  nik: string;
  province: RegionRef;
  regency: RegionRef;
  district: RegionRef;
  birth_date: string;
  sex: Sex;
  serial: string;
  warnings: Array<string>;
};
export type RegisterForm = { nik: string; email: string; phone: string; consent: boolean };
export type SelfieVerdict =
  | { kind: 'too_dark'; brightness: number; min: number }
  | { kind: 'too_bright'; brightness: number; max: number }
  | { kind: 'blurry'; sharpness: number; min: number };
export type SelfieView = {
  preview_jpeg: string;
  width: number;
  height: number;
  bytes: number;
  brightness: number;
  sharpness: number;
  verdicts: Array<SelfieVerdict>;
  acceptable: boolean;
};
export type Stage = 'welcome' | 'draft' | 'enrolling' | 'needs_pin' | 'locked' | 'unlocked';
export type EnrollmentView = {
  status: EnrollmentStatusWire;
  desk_name: string | null;
  reject_reason: string | null;
  code_expires_at: string | null;
  code_attempts_left: number | null;
  email_masked: string | null;
};
export type LockoutView = {
  failures: number;
  attempts_left: number;
  locked_until: string | null;
  retry_after_secs: number | null;
};
export type Settings = { language: string; auto_lock_secs: number; backend_url: string };
export type AppState = {
  stage: Stage;
  enrollment: EnrollmentView | null;
  lockout: LockoutView | null;
  settings: Settings;
  dev_build: boolean;
  documents_wiped: boolean;
};
export type HomeView = { nama: string; foto: string; nik_masked: string };
export type Ktp = {
  nik: string;
  nama: string;
  tempat_lahir: string;
  tanggal_lahir: string;
  jenis_kelamin: string;
  golongan_darah: string;
  alamat: string;
  rt_rw: string;
  kel_desa: string;
  kecamatan: string;
  kabupaten_kota: string;
  provinsi: string;
  agama: string;
  status_perkawinan: string;
  pekerjaan: string;
  kewarganegaraan: string;
  berlaku_hingga: string;
  foto: string;
  tempat_terbit: string;
  tanggal_terbit: string;
};
export type Anggota = {
  nama: string;
  nik: string;
  jenis_kelamin: string;
  tempat_lahir: string;
  tanggal_lahir: string;
  agama: string;
  pendidikan: string;
  pekerjaan: string;
  golongan_darah: string;
  status_perkawinan: string;
  tanggal_perkawinan: string | null;
  hubungan: string;
  kewarganegaraan: string;
  paspor: string | null;
  kitap: string | null;
  ayah: string;
  ibu: string;
};
export type Kk = {
  nomor_kk: string;
  kepala_keluarga: string;
  alamat: string;
  rt_rw: string;
  kel_desa: string;
  kecamatan: string;
  kabupaten_kota: string;
  provinsi: string;
  kode_pos: string;
  tanggal_terbit: string;
  anggota: Array<Anggota>;
};
export type KtpView = { ktp: Ktp; verified: boolean; issuer: string };
export type KkView = { kk: Kk; verified: boolean; issuer: string };
export type HistoryKind =
  | 'registered' | 'desk_scanned' | 'approved' | 'rejected' | 'activated' | 'pin_set' | 'unlocked'
  | 'unlock_failed' | 'pin_changed' | 'documents_refreshed' | 'documents_wiped'
  | 'device_released' | 'device_revoked';
export type HistoryEntry = { at: string; kind: HistoryKind; detail: string | null };
