// All user-visible strings, Bahasa Indonesia (default) and English.
import type { ErrorCode, HistoryKind, UiError } from './types';

/** Every ErrorCode, in declaration order (checked against the dictionaries in tests). */
export const ERROR_CODES: readonly ErrorCode[] = [
  'invalid_nik', 'invalid_kk', 'invalid_email', 'invalid_phone', 'consent_required',
  'pin_policy', 'pin_mismatch', 'wrong_pin', 'locked_out', 'vault_wiped', 'vault_locked',
  'vault_corrupt', 'no_documents', 'credential_invalid', 'offline', 'timeout', 'server_busy',
  'rate_limited', 'insecure_url', 'not_found', 'ineligible', 'rejected', 'code_wrong',
  'code_expired', 'code_void', 'qr_invalid', 'qr_expired', 'qr_used', 'device_revoked',
  'invalid_state', 'image_too_large', 'image_invalid', 'storage', 'key_store', 'internal',
];

export type Lang = 'id' | 'en';

const idErrors: Record<ErrorCode, string> = {
  invalid_nik: 'NIK tidak valid.',
  invalid_kk: 'Nomor KK tidak valid.',
  invalid_email: 'Alamat email tidak valid.',
  invalid_phone: 'Nomor HP tidak valid. Gunakan nomor seluler Indonesia, mis. 0812…',
  consent_required: 'Anda perlu menyetujui syarat dan ketentuan.',
  pin_policy: 'PIN belum memenuhi syarat.',
  pin_mismatch: 'PIN tidak sama. Silakan ulangi.',
  wrong_pin: 'PIN salah.',
  locked_out: 'Terlalu banyak PIN salah. Tunggu sebentar lalu coba lagi.',
  vault_wiped: 'Demi keamanan, dokumen di perangkat ini telah dihapus setelah terlalu banyak PIN salah. Dokumen akan diunduh ulang setelah Anda membuka kunci dan memperbarui.',
  vault_locked: 'Aplikasi terkunci. Masukkan PIN Anda.',
  vault_corrupt: 'Data di perangkat rusak. Silakan lepas perangkat dan aktivasi ulang.',
  no_documents: 'Belum ada dokumen di perangkat ini. Perbarui dokumen di Pengaturan.',
  credential_invalid: 'Tanda tangan dokumen tidak dapat diverifikasi.',
  offline: 'Tidak ada koneksi internet. Periksa koneksi Anda lalu coba lagi.',
  timeout: 'Server terlalu lama menjawab. Silakan coba lagi.',
  server_busy: 'Server sedang sibuk. Silakan coba beberapa saat lagi.',
  rate_limited: 'Terlalu sering. Silakan tunggu sebentar.',
  insecure_url: 'Alamat server harus memakai HTTPS.',
  not_found: 'Data tidak ditemukan.',
  ineligible: 'Anda belum dapat mendaftar.',
  rejected: 'Pendaftaran ditolak oleh petugas.',
  code_wrong: 'Kode aktivasi salah.',
  code_expired: 'Kode aktivasi sudah kedaluwarsa. Minta kode baru.',
  code_void: 'Kode aktivasi tidak berlaku lagi. Minta kode baru.',
  qr_invalid: 'QR tidak dikenali. Pastikan Anda memindai QR petugas Dukcapil.',
  qr_expired: 'QR petugas sudah kedaluwarsa. Minta petugas menampilkan QR baru.',
  qr_used: 'QR ini sudah dipakai. Minta petugas menampilkan QR baru.',
  device_revoked: 'Perangkat ini sudah tidak terdaftar. Silakan daftar ulang.',
  invalid_state: 'Langkah ini tidak dapat dilakukan sekarang.',
  image_too_large: 'Ukuran foto terlalu besar.',
  image_invalid: 'Berkas bukan foto yang dapat dibaca (gunakan JPEG atau PNG).',
  storage: 'Penyimpanan perangkat bermasalah.',
  key_store: 'Penyimpanan kunci perangkat bermasalah.',
  internal: 'Terjadi kesalahan. Silakan coba lagi.',
};

const enErrors: Record<ErrorCode, string> = {
  invalid_nik: 'The NIK is not valid.',
  invalid_kk: 'The KK number is not valid.',
  invalid_email: 'The email address is not valid.',
  invalid_phone: 'The phone number is not valid. Use an Indonesian mobile number, e.g. 0812…',
  consent_required: 'You need to accept the terms.',
  pin_policy: 'The PIN does not meet the rules.',
  pin_mismatch: 'The PINs do not match. Please try again.',
  wrong_pin: 'Wrong PIN.',
  locked_out: 'Too many wrong PINs. Please wait and try again.',
  vault_wiped: 'For your safety, the documents on this device were deleted after too many wrong PINs. They will be downloaded again after you unlock and refresh.',
  vault_locked: 'The app is locked. Enter your PIN.',
  vault_corrupt: 'The data on this device is damaged. Please release the device and activate again.',
  no_documents: 'No documents on this device yet. Refresh documents in Settings.',
  credential_invalid: 'The document signature could not be verified.',
  offline: 'No internet connection. Check your connection and try again.',
  timeout: 'The server took too long to answer. Please try again.',
  server_busy: 'The server is busy. Please try again in a moment.',
  rate_limited: 'Too many requests. Please wait a moment.',
  insecure_url: 'The server address must use HTTPS.',
  not_found: 'Not found.',
  ineligible: 'You cannot register yet.',
  rejected: 'The registration was rejected by the officer.',
  code_wrong: 'Wrong activation code.',
  code_expired: 'The activation code has expired. Ask for a new code.',
  code_void: 'The activation code is no longer valid. Ask for a new code.',
  qr_invalid: 'QR not recognised. Make sure you scan the Dukcapil officer\'s QR.',
  qr_expired: 'The officer\'s QR has expired. Ask the officer to show a new one.',
  qr_used: 'This QR was already used. Ask the officer to show a new one.',
  device_revoked: 'This device is no longer registered. Please register again.',
  invalid_state: 'This step cannot be done right now.',
  image_too_large: 'The photo is too large.',
  image_invalid: 'The file is not a readable photo (use JPEG or PNG).',
  storage: 'A problem with the device storage.',
  key_store: 'A problem with the device key store.',
  internal: 'Something went wrong. Please try again.',
};

const idHistory: Record<HistoryKind, string> = {
  registered: 'Pendaftaran dikirim',
  desk_scanned: 'QR petugas dipindai',
  approved: 'Pendaftaran disetujui',
  rejected: 'Pendaftaran ditolak',
  activated: 'Aktivasi berhasil',
  pin_set: 'PIN dibuat',
  unlocked: 'Aplikasi dibuka',
  unlock_failed: 'PIN salah dimasukkan',
  pin_changed: 'PIN diubah',
  documents_refreshed: 'Dokumen diperbarui',
  documents_wiped: 'Dokumen dihapus (terlalu banyak PIN salah)',
  device_released: 'Perangkat dilepas',
  device_revoked: 'Perangkat dicabut',
};
const enHistory: Record<HistoryKind, string> = {
  registered: 'Registration sent',
  desk_scanned: 'Officer QR scanned',
  approved: 'Registration approved',
  rejected: 'Registration rejected',
  activated: 'Activated',
  pin_set: 'PIN created',
  unlocked: 'App unlocked',
  unlock_failed: 'Wrong PIN entered',
  pin_changed: 'PIN changed',
  documents_refreshed: 'Documents refreshed',
  documents_wiped: 'Documents deleted (too many wrong PINs)',
  device_released: 'Device released',
  device_revoked: 'Device revoked',
};

const id = {
  app_name: 'IKD — Identitas Kependudukan Digital',
  app_short: 'IKD',
  lang_switch: 'English',
  lang_switch_label: 'Ganti bahasa ke English',
  welcome_title: 'KTP-el dan Kartu Keluarga di ponsel Anda',
  welcome_body: 'Simpan KTP-el dan Kartu Keluarga digital yang ditandatangani Dukcapil, aman di balik PIN. Daftar dari rumah, lalu aktivasi sekali di kantor Dukcapil.',
  welcome_step1: 'Isi NIK, email, dan nomor HP',
  welcome_step2: 'Ambil swafoto',
  welcome_step3: 'Kunjungi petugas Dukcapil dan pindai QR',
  welcome_step4: 'Masukkan kode aktivasi dan buat PIN',
  btn_daftar: 'Daftar',
  btn_aktivasi: 'Aktivasi — saya sudah punya kode',
  no_enrollment: 'Belum ada pendaftaran di perangkat ini. Silakan Daftar terlebih dahulu.',
  back: 'Kembali',
  retry: 'Coba lagi',
  loading: 'Memuat…',
  close: 'Tutup',
  cancel: 'Batal',
  next: 'Lanjut',
  // register
  register_title: 'Daftar',
  register_intro: 'Gunakan data sesuai KTP-el Anda.',
  nik_label: 'NIK (16 digit)',
  nik_hint: 'Nomor Induk Kependudukan, tertera di KTP-el atau KK.',
  email_label: 'Email',
  email_hint: 'Kode aktivasi dikirim ke email ini.',
  phone_label: 'Nomor HP',
  phone_hint: 'Contoh: 0812 3456 7890',
  nik_registered_at: 'Terdaftar di: {place}',
  nik_unknown_region: 'Sebagian wilayah pada NIK tidak kami kenali ({codes}). Anda tetap dapat melanjutkan; petugas akan memeriksanya.',
  nik_digits: '{n} dari 16 digit',
  checking: 'Memeriksa…',
  terms_title: 'Syarat dan ketentuan',
  terms_text: 'Data Anda (NIK, email, nomor HP, dan swafoto) dikirim ke Dukcapil hanya untuk memverifikasi identitas Anda. Dokumen digital disimpan terenkripsi di perangkat ini dan hanya dapat dibuka dengan PIN Anda. Anda dapat melepas perangkat kapan saja.',
  consent_label: 'Saya menyetujui syarat dan ketentuan di atas',
  nik_reason_length: 'NIK harus 16 digit.',
  nik_reason_non_digit: 'NIK hanya boleh berisi angka.',
  nik_reason_unknown_province: 'Kode provinsi pada NIK tidak dikenal.',
  nik_reason_impossible_date: 'Tanggal lahir pada NIK tidak mungkin. Periksa kembali digit ke-7 sampai ke-12.',
  nik_reason_serial_zero: 'Nomor urut pada NIK (4 digit terakhir) tidak boleh 0000.',
  phone_reason_empty: 'Nomor HP belum diisi.',
  phone_reason_invalid_char: 'Nomor HP hanya boleh berisi angka, spasi, tanda hubung, atau + di depan.',
  phone_reason_not_indonesian: 'Gunakan nomor Indonesia (diawali 08 atau +62).',
  phone_reason_not_mobile: 'Gunakan nomor seluler (diawali 08), bukan nomor telepon rumah.',
  phone_reason_length: 'Jumlah digit nomor HP tidak sesuai.',
  email_reason_whitespace: 'Alamat email tidak boleh berisi spasi.',
  email_reason_at_count: 'Alamat email harus berisi tepat satu tanda @.',
  email_reason_domain_no_dot: 'Bagian setelah @ harus berisi domain lengkap, mis. contoh.com.',
  ineligible_under_age: 'Anda belum berusia 17 tahun. KTP-el digital belum dapat dibuat.',
  ineligible_not_recorded: 'NIK belum tercatat di database Dukcapil. Silakan hubungi kantor Dukcapil.',
  ineligible_deceased: 'NIK tercatat sudah meninggal. Silakan hubungi kantor Dukcapil.',
  // selfie
  selfie_title: 'Swafoto',
  selfie_intro: 'Ambil foto wajah Anda: lihat ke kamera, wajah terang dan tidak tertutup.',
  btn_capture: 'Ambil foto',
  btn_choose_photo: 'Pilih foto dari galeri',
  camera_unavailable: 'Kamera tidak tersedia. Pilih foto dari galeri.',
  camera_denied: 'Izin kamera ditolak. Anda dapat memilih foto dari galeri.',
  camera_no_picture: 'Kamera belum memberi gambar (layar hitam). Coba lagi, atau pilih foto dari galeri.',
  selfie_processing: 'Memproses foto…',
  selfie_ok: 'Foto jelas dan siap dikirim.',
  verdict_too_dark: 'Terlalu gelap',
  verdict_too_bright: 'Terlalu terang',
  verdict_blurry: 'Buram',
  verdict_too_dark_help: 'Cari tempat yang lebih terang.',
  verdict_too_bright_help: 'Hindari cahaya langsung yang menyilaukan.',
  verdict_blurry_help: 'Pegang ponsel dengan stabil.',
  verdict_numbers: 'kecerahan {b}, ketajaman {s}',
  selfie_not_acceptable: 'Foto belum dapat dipakai. Silakan ambil ulang.',
  btn_retake: 'Ambil ulang',
  btn_accept: 'Gunakan foto ini',
  // submit
  submit_title: 'Kirim pendaftaran',
  submit_intro: 'Periksa data Anda sebelum dikirim.',
  btn_submit: 'Kirim pendaftaran',
  submitting: 'Mengirim pendaftaran…',
  visit_title: 'Kunjungi petugas Dukcapil',
  visit_intro: 'Pendaftaran Anda sudah terkirim. Langkah berikutnya di kantor Dukcapil:',
  visit_step1: 'Bawa KTP-el asli Anda.',
  visit_step2: 'Datang ke meja layanan IKD.',
  visit_step3: 'Petugas menampilkan QR di layar.',
  visit_step4: 'Tekan "Pindai QR petugas" dan arahkan kamera ke QR.',
  btn_scan_qr: 'Pindai QR petugas',
  // scan
  scan_title: 'Pindai QR petugas',
  scan_intro_mobile: 'Arahkan kamera ke QR yang ditampilkan petugas.',
  scan_intro_desktop: 'Di komputer, pilih gambar QR atau tempel teks QR dari petugas.',
  btn_scan_camera: 'Buka kamera',
  scan_denied: 'Izin kamera ditolak. Aktifkan izin kamera di pengaturan aplikasi.',
  btn_open_settings: 'Buka pengaturan aplikasi',
  qr_file_label: 'Pilih gambar QR',
  qr_text_label: 'Tempel teks QR',
  btn_qr_text_submit: 'Kirim',
  scanning: 'Mengirim QR…',
  // status
  status_title: 'Status pendaftaran',
  status_submitted: 'Menunggu pemindaian QR petugas.',
  status_scanned: 'Data Anda sedang diperiksa petugas{desk}.',
  status_approved: 'Pendaftaran disetujui! Kode aktivasi dikirim ke {email}.',
  status_activated: 'Sudah diaktivasi.',
  status_rejected: 'Pendaftaran ditolak.',
  status_expired: 'Pendaftaran kedaluwarsa. Silakan daftar ulang.',
  reject_reason: 'Alasan: {reason}',
  status_checking: 'Memeriksa status…',
  status_next_check: 'Diperiksa otomatis.',
  btn_refresh: 'Periksa sekarang',
  btn_resend: 'Kirim ulang kode',
  btn_enter_code: 'Masukkan kode aktivasi',
  btn_start_over: 'Daftar ulang',
  resend_wait: 'Kirim ulang dapat dilakukan dalam {secs} detik.',
  resend_done: 'Kode baru telah dikirim.',
  your_email: 'email Anda',
  // code
  code_title: 'Kode aktivasi',
  code_intro: 'Masukkan 6 digit kode yang dikirim ke {email}.',
  code_group: 'Kode aktivasi 6 digit',
  code_box: 'Digit {n} dari 6',
  code_progress: '{n} dari 6 digit',
  code_validity: 'Berlaku {hhmm} lagi',
  code_expired_now: 'Kode sudah kedaluwarsa.',
  code_attempts: 'Sisa percobaan: {n}',
  btn_code_submit: 'Aktivasi',
  activating: 'Mengaktifkan dan mengunduh dokumen…',
  keypad_back: 'Hapus',
  // pin
  create_pin_title: 'Buat PIN',
  create_pin_first: 'Buat PIN 6 digit untuk membuka aplikasi.',
  create_pin_confirm: 'Masukkan PIN sekali lagi.',
  pin_rules: 'Jangan gunakan angka yang sama semua, angka berurutan, atau tanggal lahir.',
  pin_reason_length: 'PIN harus 6 digit.',
  pin_reason_repeated: 'PIN tidak boleh angka yang sama semua.',
  pin_reason_sequence: 'PIN tidak boleh berurutan.',
  pin_reason_birth_date: 'PIN tidak boleh tanggal lahir.',
  pin_title: 'Masukkan PIN',
  pin_intro: 'Masukkan PIN 6 digit Anda.',
  pin_group: 'PIN 6 digit',
  pin_progress: '{n} dari 6 digit',
  pin_attempts: 'PIN salah. Sisa percobaan: {n}',
  pin_wait: 'Coba lagi dalam {time}',
  pin_saving: 'Menyimpan PIN…',
  unlocking: 'Membuka…',
  // home
  home_title: 'Beranda',
  greeting: 'Halo,',
  tile_dokumen: 'Dokumen Kependudukan',
  tile_dokumen_sub: 'KTP-el dan Kartu Keluarga',
  tile_keluarga: 'Data Keluarga',
  tile_keluarga_sub: 'Kartu Keluarga',
  tile_histori: 'Histori Aktivitas',
  tile_histori_sub: 'Riwayat penggunaan',
  tile_pengaturan: 'Pengaturan',
  tile_pengaturan_sub: 'PIN, bahasa, perangkat',
  btn_lock: 'Kunci',
  photo_alt: 'Foto {name}',
  docs_wiped_note: 'Dokumen perlu diunduh ulang. Buka Pengaturan → Perbarui dokumen.',
  // ktp
  ktp_title: 'KTP-el',
  ktp_verified: 'Terverifikasi',
  ktp_unverified: 'Tanda tangan dokumen tidak dapat diverifikasi. Jangan gunakan tampilan ini sebagai bukti.',
  ktp_note: 'Tampilan data terverifikasi — bukan dokumen resmi',
  ktp_zoom: 'Perbesar (mode lanskap)',
  ktp_unzoom: 'Perkecil',
  open_kk: 'Lihat Kartu Keluarga',
  issued_by: 'Penerbit: {issuer}',
  // kk
  kk_title: 'Kartu Keluarga',
  kk_scroll_hint: 'Geser tabel ke samping untuk melihat semua kolom.',
  // history
  history_title: 'Histori Aktivitas',
  history_empty: 'Belum ada aktivitas.',
  // settings
  settings_title: 'Pengaturan',
  change_pin: 'Ubah PIN',
  change_pin_old: 'Masukkan PIN lama.',
  change_pin_new: 'Masukkan PIN baru.',
  change_pin_confirm: 'Masukkan PIN baru sekali lagi.',
  change_pin_done: 'PIN berhasil diubah.',
  language: 'Bahasa',
  autolock: 'Kunci otomatis',
  minutes: '{n} menit',
  backend_url: 'Alamat server (dev)',
  btn_save: 'Simpan',
  saved: 'Tersimpan.',
  refresh_docs: 'Perbarui dokumen',
  refreshing: 'Memperbarui dokumen…',
  refreshed: 'Dokumen diperbarui.',
  release_device: 'Lepas Perangkat',
  release_confirm_title: 'Lepas perangkat ini?',
  release_confirm_body: 'Semua data IKD di perangkat ini akan dihapus dan perangkat tidak lagi terdaftar. Anda perlu mendaftar dan aktivasi ulang untuk memakai IKD lagi.',
  release_confirm_yes: 'Ya, lepas perangkat',
  releasing: 'Melepas perangkat…',
  about: 'Tentang',
  about_version: 'Versi {v}',
  about_open_source: 'IKD adalah perangkat lunak sumber terbuka.',
  about_stored: 'Yang disimpan di perangkat ini: KTP-el dan KK digital (terenkripsi, dibuka dengan PIN), kunci perangkat, pengaturan, dan histori aktivitas. Swafoto tidak disimpan setelah dikirim.',
  // misc
  busy: 'Mohon tunggu…',
  locked_notice: 'Aplikasi dikunci.',
};

export type Key = keyof typeof id;

const en: Record<Key, string> = {
  app_name: 'IKD — Digital Population Identity',
  app_short: 'IKD',
  lang_switch: 'Bahasa Indonesia',
  lang_switch_label: 'Switch language to Bahasa Indonesia',
  welcome_title: 'Your KTP-el and Family Card on your phone',
  welcome_body: 'Keep the digital KTP-el and Family Card signed by Dukcapil, safe behind a PIN. Register from home, then activate once at a Dukcapil office.',
  welcome_step1: 'Enter your NIK, email and phone number',
  welcome_step2: 'Take a selfie',
  welcome_step3: 'Visit a Dukcapil officer and scan the QR',
  welcome_step4: 'Enter the activation code and create a PIN',
  btn_daftar: 'Register',
  btn_aktivasi: 'Activate — I already have a code',
  no_enrollment: 'There is no registration on this device yet. Please register first.',
  back: 'Back',
  retry: 'Try again',
  loading: 'Loading…',
  close: 'Close',
  cancel: 'Cancel',
  next: 'Next',
  register_title: 'Register',
  register_intro: 'Use the data on your KTP-el.',
  nik_label: 'NIK (16 digits)',
  nik_hint: 'Population identity number, printed on your KTP-el or KK.',
  email_label: 'Email',
  email_hint: 'The activation code is sent to this email.',
  phone_label: 'Mobile number',
  phone_hint: 'Example: 0812 3456 7890',
  nik_registered_at: 'Registered in: {place}',
  nik_unknown_region: 'We do not recognise part of the region in this NIK ({codes}). You can continue; the officer will check it.',
  nik_digits: '{n} of 16 digits',
  checking: 'Checking…',
  terms_title: 'Terms',
  terms_text: 'Your data (NIK, email, phone number and selfie) is sent to Dukcapil only to verify your identity. The digital documents are stored encrypted on this device and open only with your PIN. You can release the device at any time.',
  consent_label: 'I accept the terms above',
  nik_reason_length: 'The NIK must have 16 digits.',
  nik_reason_non_digit: 'The NIK may contain digits only.',
  nik_reason_unknown_province: 'The province code in the NIK is unknown.',
  nik_reason_impossible_date: 'The birth date in the NIK is impossible. Check digits 7 to 12.',
  nik_reason_serial_zero: 'The serial number of the NIK (last 4 digits) cannot be 0000.',
  phone_reason_empty: 'Enter your mobile number.',
  phone_reason_invalid_char: 'A phone number has only digits, spaces, dashes or a leading +.',
  phone_reason_not_indonesian: 'Use an Indonesian number (starting 08 or +62).',
  phone_reason_not_mobile: 'Use a mobile number (starting 08), not a landline.',
  phone_reason_length: 'The number of digits is not right.',
  email_reason_whitespace: 'An email address cannot contain spaces.',
  email_reason_at_count: 'An email address has exactly one @.',
  email_reason_domain_no_dot: 'After the @ comes a full domain, e.g. example.com.',
  ineligible_under_age: 'You are not 17 yet. A digital KTP-el cannot be issued.',
  ineligible_not_recorded: 'The NIK is not recorded in the Dukcapil database. Please contact a Dukcapil office.',
  ineligible_deceased: 'The NIK is recorded as deceased. Please contact a Dukcapil office.',
  selfie_title: 'Selfie',
  selfie_intro: 'Take a photo of your face: look at the camera, face well lit and uncovered.',
  btn_capture: 'Take photo',
  btn_choose_photo: 'Choose a photo from the gallery',
  camera_unavailable: 'No camera available. Choose a photo from the gallery.',
  camera_denied: 'Camera permission denied. You can choose a photo from the gallery.',
  camera_no_picture: 'The camera gave no picture yet (black frames). Try again, or choose a photo from the gallery.',
  selfie_processing: 'Processing the photo…',
  selfie_ok: 'The photo is clear and ready to send.',
  verdict_too_dark: 'Too dark',
  verdict_too_bright: 'Too bright',
  verdict_blurry: 'Blurry',
  verdict_too_dark_help: 'Find a brighter place.',
  verdict_too_bright_help: 'Avoid direct glaring light.',
  verdict_blurry_help: 'Hold the phone steady.',
  verdict_numbers: 'brightness {b}, sharpness {s}',
  selfie_not_acceptable: 'This photo cannot be used yet. Please retake it.',
  btn_retake: 'Retake',
  btn_accept: 'Use this photo',
  submit_title: 'Send registration',
  submit_intro: 'Check your data before sending.',
  btn_submit: 'Send registration',
  submitting: 'Sending the registration…',
  visit_title: 'Visit a Dukcapil officer',
  visit_intro: 'Your registration was sent. Next step at the Dukcapil office:',
  visit_step1: 'Bring your original KTP-el.',
  visit_step2: 'Go to the IKD service desk.',
  visit_step3: 'The officer shows a QR on screen.',
  visit_step4: 'Tap "Scan officer QR" and point the camera at the QR.',
  btn_scan_qr: 'Scan officer QR',
  scan_title: 'Scan officer QR',
  scan_intro_mobile: 'Point the camera at the QR the officer shows.',
  scan_intro_desktop: 'On a computer, choose an image of the QR or paste the QR text from the officer.',
  btn_scan_camera: 'Open camera',
  scan_denied: 'Camera permission denied. Allow the camera in the app settings.',
  btn_open_settings: 'Open app settings',
  qr_file_label: 'Choose a QR image',
  qr_text_label: 'Paste the QR text',
  btn_qr_text_submit: 'Send',
  scanning: 'Sending the QR…',
  status_title: 'Registration status',
  status_submitted: 'Waiting for the officer QR scan.',
  status_scanned: 'An officer is checking your data{desk}.',
  status_approved: 'Registration approved! The activation code was sent to {email}.',
  status_activated: 'Already activated.',
  status_rejected: 'Registration rejected.',
  status_expired: 'The registration expired. Please register again.',
  reject_reason: 'Reason: {reason}',
  status_checking: 'Checking the status…',
  status_next_check: 'Checked automatically.',
  btn_refresh: 'Check now',
  btn_resend: 'Resend code',
  btn_enter_code: 'Enter activation code',
  btn_start_over: 'Register again',
  resend_wait: 'You can resend in {secs} seconds.',
  resend_done: 'A new code was sent.',
  your_email: 'your email',
  code_title: 'Activation code',
  code_intro: 'Enter the 6-digit code sent to {email}.',
  code_group: '6-digit activation code',
  code_box: 'Digit {n} of 6',
  code_progress: '{n} of 6 digits',
  code_validity: 'Valid for {hhmm} more',
  code_expired_now: 'The code has expired.',
  code_attempts: 'Attempts left: {n}',
  btn_code_submit: 'Activate',
  activating: 'Activating and downloading documents…',
  keypad_back: 'Delete',
  create_pin_title: 'Create PIN',
  create_pin_first: 'Create a 6-digit PIN to open the app.',
  create_pin_confirm: 'Enter the PIN once more.',
  pin_rules: 'Do not use all the same digit, a sequence, or your birth date.',
  pin_reason_length: 'The PIN must have 6 digits.',
  pin_reason_repeated: 'The PIN cannot be all the same digit.',
  pin_reason_sequence: 'The PIN cannot be a sequence.',
  pin_reason_birth_date: 'The PIN cannot be your birth date.',
  pin_title: 'Enter PIN',
  pin_intro: 'Enter your 6-digit PIN.',
  pin_group: '6-digit PIN',
  pin_progress: '{n} of 6 digits',
  pin_attempts: 'Wrong PIN. Attempts left: {n}',
  pin_wait: 'Try again in {time}',
  pin_saving: 'Saving the PIN…',
  unlocking: 'Unlocking…',
  home_title: 'Home',
  greeting: 'Hello,',
  tile_dokumen: 'Population Documents',
  tile_dokumen_sub: 'KTP-el and Family Card',
  tile_keluarga: 'Family Data',
  tile_keluarga_sub: 'Family Card (KK)',
  tile_histori: 'Activity History',
  tile_histori_sub: 'What happened when',
  tile_pengaturan: 'Settings',
  tile_pengaturan_sub: 'PIN, language, device',
  btn_lock: 'Lock',
  photo_alt: 'Photo of {name}',
  docs_wiped_note: 'The documents need to be downloaded again. Open Settings → Refresh documents.',
  ktp_title: 'KTP-el',
  ktp_verified: 'Verified',
  ktp_unverified: 'The document signature could not be verified. Do not use this view as proof.',
  ktp_note: 'View of verified data — not an official document',
  ktp_zoom: 'Enlarge (landscape)',
  ktp_unzoom: 'Shrink',
  open_kk: 'View Family Card',
  issued_by: 'Issuer: {issuer}',
  kk_title: 'Family Card',
  kk_scroll_hint: 'Swipe the table sideways to see all columns.',
  history_title: 'Activity History',
  history_empty: 'No activity yet.',
  settings_title: 'Settings',
  change_pin: 'Change PIN',
  change_pin_old: 'Enter your current PIN.',
  change_pin_new: 'Enter a new PIN.',
  change_pin_confirm: 'Enter the new PIN once more.',
  change_pin_done: 'PIN changed.',
  language: 'Language',
  autolock: 'Auto-lock',
  minutes: '{n} min',
  backend_url: 'Server address (dev)',
  btn_save: 'Save',
  saved: 'Saved.',
  refresh_docs: 'Refresh documents',
  refreshing: 'Refreshing documents…',
  refreshed: 'Documents refreshed.',
  release_device: 'Release device',
  release_confirm_title: 'Release this device?',
  release_confirm_body: 'All IKD data on this device will be deleted and the device will no longer be registered. You will need to register and activate again to use IKD.',
  release_confirm_yes: 'Yes, release the device',
  releasing: 'Releasing the device…',
  about: 'About',
  about_version: 'Version {v}',
  about_open_source: 'IKD is open-source software.',
  about_stored: 'Stored on this device: the digital KTP-el and KK (encrypted, opened with your PIN), the device key, settings and the activity history. The selfie is not kept after sending.',
  busy: 'Please wait…',
  locked_notice: 'The app is locked.',
};

const dicts: Record<Lang, Record<Key, string>> = { id, en };
const errors: Record<Lang, Record<ErrorCode, string>> = { id: idErrors, en: enErrors };
const histories: Record<Lang, Record<HistoryKind, string>> = { id: idHistory, en: enHistory };

let current: Lang = 'id';

export function lang(): Lang {
  return current;
}

export function setLang(l: string): void {
  current = l === 'en' ? 'en' : 'id';
  if (typeof document !== 'undefined') document.documentElement.lang = current;
}

function fill(s: string, vars?: Record<string, string | number>): string {
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

export function t(key: Key, vars?: Record<string, string | number>): string {
  return fill(dicts[current][key], vars);
}

export function historyText(kind: HistoryKind): string {
  return histories[current][kind] ?? kind;
}

/** The text for an error code alone (no detail). */
export function errorCodeText(code: ErrorCode, l: Lang = current): string {
  return errors[l][code] ?? errors[l].internal;
}

function reasonKey(prefix: string, reason: unknown): Key | null {
  const k = `${prefix}_${String(reason)}`;
  return k in id ? (k as Key) : null;
}

/** Words a UiError in the current language, using its detail where it helps. */
export function errorText(err: UiError): string {
  const d = err.detail ?? {};
  const base = errorCodeText(err.code);
  switch (err.code) {
    case 'invalid_nik': {
      const k = reasonKey('nik_reason', d.reason);
      return k ? t(k) : base;
    }
    case 'invalid_phone': {
      const k = reasonKey('phone_reason', d.reason);
      return k ? t(k) : base;
    }
    case 'invalid_email': {
      const k = reasonKey('email_reason', d.reason);
      return k ? t(k) : base;
    }
    case 'pin_policy': {
      const k = reasonKey('pin_reason', d.reason);
      return k ? t(k) : base;
    }
    case 'ineligible': {
      const k = reasonKey('ineligible', d.reason);
      return k ? t(k) : base;
    }
    case 'wrong_pin':
    case 'code_wrong':
      if (typeof d.attempts_left === 'number') {
        return `${base} ${t('code_attempts', { n: d.attempts_left })}`;
      }
      return base;
    case 'rate_limited':
      if (typeof d.retry_after_secs === 'number') {
        return `${base} ${t('resend_wait', { secs: d.retry_after_secs })}`;
      }
      return base;
    default:
      return base;
  }
}

/** Dictionaries for tests. */
export const _dicts = { dicts, errors, histories };
