// Typed calls to the Tauri shell. The commands, their arguments and results come from
// the Rust side (gen/ts/commands.ts, generated from src-tauri/src/commands.rs; the
// contract is gen/COMMANDS.md): a command missing here, or one the shell lacks, fails
// `npm run check`.
import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type {
  AppState, CommandName, Commands, RegisterForm, Settings, UiError, ErrorCode, UploadProgress,
} from './types';
import { ERROR_CODES } from './i18n';
import { tracked } from './net';

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

type Args<C extends CommandName> = Commands[C]['args'];
type Returns<C extends CommandName> = Commands[C]['returns'];
type NoArgs = Record<string, never>;

/** Invokes command `cmd`: its arguments and result typed by the generated bindings. */
async function call<C extends CommandName>(
  cmd: C,
  ...args: Args<C> extends NoArgs ? [] : [Args<C>]
): Promise<Returns<C>> {
  return tracked(cmd, async () => {
    try {
      return await invoke<Returns<C>>(cmd, args[0]);
    } catch (e) {
      throw toUiError(e);
    }
  }, toUiError);
}

/** `reset_pin_with_code` → `resetPinWithCode`. */
type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

/** One method per command, named in camelCase: none missing, none extra. */
type Api = { [C in CommandName as Camel<C>]: (...args: never[]) => Promise<Returns<C>> };

const commands = {
  appState: () => call('app_state'),
  checkNik: (nik: string) => call('check_nik', { nik }),
  checkEmail: (email: string) => call('check_email', { email }),
  checkPhone: (phone: string) => call('check_phone', { phone }),
  processSelfie: (imageB64: string) => call('process_selfie', { imageB64 }),
  /** `onUpload` gets the upload's bytes handed to the network (on a Tauri channel). */
  submitEnrollment: (form: RegisterForm, onUpload: (p: UploadProgress) => void = () => {}) =>
    call('submit_enrollment', { form, onProgress: new Channel<UploadProgress>(onUpload) }),
  decodeQrImage: (imageB64: string) => call('decode_qr_image', { imageB64 }),
  scanDeskQr: (text: string) => call('scan_desk_qr', { text }),
  refreshStatus: () => call('refresh_status'),
  resendCode: () => call('resend_code'),
  activate: (code: string) => call('activate', { code }),
  checkPin: (pin: string) => call('check_pin', { pin }),
  setPin: (pin: string, confirm: string) => call('set_pin', { pin, confirm }),
  unlock: (pin: string) => call('unlock', { pin }),
  lock: () => call('lock'),
  touch: () => call('touch'),
  home: () => call('home'),
  ktp: () => call('ktp'),
  kk: () => call('kk'),
  history: () => call('history'),
  changePin: (oldPin: string, newPin: string) => call('change_pin', { oldPin, newPin }),
  settings: () => call('settings'),
  setSettings: (settings: Settings) => call('set_settings', { settings }),
  refreshDocuments: () => call('refresh_documents'),
  releaseDevice: () => call('release_device'),
  resetEnrollment: () => call('reset_enrollment'),
  /** `onUpload` gets the bytes (the selfie) handed to the network. */
  forgotPin: (onUpload: (p: UploadProgress) => void = () => {}) =>
    call('forgot_pin', { onProgress: new Channel<UploadProgress>(onUpload) }),
  resetPinWithCode: (code: string) => call('reset_pin_with_code', { code }),
  /** Checks the PIN of the unlocked wallet (Ubah PIN asks the old PIN first); a wrong PIN counts like a wrong unlock. */
  verifyPin: (pin: string) => call('verify_pin', { pin }),
  /** Fetches and checks an `openid4vp://` request; the shell keeps it for present / declinePresentation. */
  presentationRequest: (link: string) => call('presentation_request', { link }),
  /** "Bagikan": `choices` = the claim paths to send (null: all that are asked). */
  present: (pin: string, choices: string[] | null) => call('present', { pin, choices }),
  /** "Tolak": answers access_denied. */
  declinePresentation: () => call('decline_presentation'),
  /** "Periksa KTP": a request of `check` (identitas, usia17, kk) from the verifier service, with its QR. */
  startCheck: (check: string) => call('start_check', { check }),
  /** The verifier's result so far (`pending` until the other wallet answers). */
  checkResult: (id: string) => call('check_result', { id }),
  /** Stops the network requests in flight (leaving a screen); their steps stay for "Coba lagi". */
  cancelNetwork: () => call('cancel_network'),
  /** Keeps the registration form in the wallet (sealed) until submitted. */
  saveDraft: (form: RegisterForm) => call('save_draft', { form }),
  /** The form and selfie kept since before a restart. */
  draft: () => call('draft'),
} satisfies Api;

export const api = commands;

/** Subscribes to the shell's `locked` event. Resolves to an unlisten function. */
export async function onLocked(cb: (s: AppState) => void): Promise<() => void> {
  try {
    return await listen<AppState>('locked', (ev) => cb(ev.payload));
  } catch {
    return () => {};
  }
}

/** Subscribes to the shell's `presentation-link` event (an `openid4vp://` link the app
 * was opened with, on phones). Resolves to an unlisten function. */
export async function onPresentationLink(cb: (link: string) => void): Promise<() => void> {
  try {
    return await listen<string>('presentation-link', (ev) => cb(ev.payload));
  } catch {
    return () => {};
  }
}
