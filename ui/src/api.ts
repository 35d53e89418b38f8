// Typed calls to the Tauri shell (see src-tauri/COMMANDS.md).
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type {
  AppState, EnrollmentView, HistoryEntry, HomeView, KkView, KtpView, NikInfo, RegisterForm,
  SelfieView, Settings, UiError, ErrorCode,
} from './types';
import { ERROR_CODES } from './i18n';

export function isUiError(e: unknown): e is UiError {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as UiError).code === 'string';
}

/** Any thrown value as a UiError (unknown shapes become `internal`). */
export function toUiError(e: unknown): UiError {
  if (isUiError(e)) {
    const code = (ERROR_CODES as readonly string[]).includes(e.code) ? e.code : ('internal' as ErrorCode);
    return { code, message: String(e.message ?? ''), detail: e.detail ?? null };
  }
  return { code: 'internal', message: e instanceof Error ? e.message : String(e), detail: null };
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toUiError(e);
  }
}

export const api = {
  appState: () => call<AppState>('app_state'),
  checkNik: (nik: string) => call<NikInfo>('check_nik', { nik }),
  checkEmail: (email: string) => call<string>('check_email', { email }),
  checkPhone: (phone: string) => call<string>('check_phone', { phone }),
  processSelfie: (imageB64: string) => call<SelfieView>('process_selfie', { imageB64 }),
  submitEnrollment: (form: RegisterForm) => call<EnrollmentView>('submit_enrollment', { form }),
  decodeQrImage: (imageB64: string) => call<string>('decode_qr_image', { imageB64 }),
  scanDeskQr: (text: string) => call<EnrollmentView>('scan_desk_qr', { text }),
  refreshStatus: () => call<EnrollmentView>('refresh_status'),
  resendCode: () => call<EnrollmentView>('resend_code'),
  activate: (code: string) => call<AppState>('activate', { code }),
  checkPin: (pin: string) => call<null>('check_pin', { pin }),
  setPin: (pin: string, confirm: string) => call<AppState>('set_pin', { pin, confirm }),
  unlock: (pin: string) => call<AppState>('unlock', { pin }),
  lock: () => call<AppState>('lock'),
  touch: () => call<null>('touch'),
  home: () => call<HomeView>('home'),
  ktp: () => call<KtpView>('ktp'),
  kk: () => call<KkView>('kk'),
  history: () => call<HistoryEntry[]>('history'),
  changePin: (oldPin: string, newPin: string) => call<null>('change_pin', { oldPin, newPin }),
  /** Checks the PIN of the unlocked wallet (Ubah PIN asks the old PIN first); a wrong PIN counts like a wrong unlock. */
  verifyPin: (pin: string) => call<null>('verify_pin', { pin }),
  settings: () => call<Settings>('settings'),
  setSettings: (settings: Settings) => call<Settings>('set_settings', { settings }),
  refreshDocuments: () => call<null>('refresh_documents'),
  releaseDevice: () => call<AppState>('release_device'),
  resetEnrollment: () => call<AppState>('reset_enrollment'),
  forgotPin: () => call<EnrollmentView>('forgot_pin'),
  resetPinWithCode: (code: string) => call<AppState>('reset_pin_with_code', { code }),
};

/** Subscribes to the shell's `locked` event. Resolves to an unlisten function. */
export async function onLocked(cb: (s: AppState) => void): Promise<() => void> {
  try {
    return await listen<AppState>('locked', (ev) => cb(ev.payload));
  } catch {
    return () => {};
  }
}
