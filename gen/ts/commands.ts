// Generated from src-tauri/src/commands.rs by scripts/gen. Do not edit.
import type { AppState } from "./AppState";
import type { CheckRequestView } from "./CheckRequestView";
import type { CheckResultView } from "./CheckResultView";
import type { ConsentView } from "./ConsentView";
import type { Draft } from "./Draft";
import type { EnrollmentView } from "./EnrollmentView";
import type { HistoryEntry } from "./HistoryEntry";
import type { HomeView } from "./HomeView";
import type { KkView } from "./KkView";
import type { KtpView } from "./KtpView";
import type { NikInfo } from "./NikInfo";
import type { PresentationOutcome } from "./PresentationOutcome";
import type { RegisterForm } from "./RegisterForm";
import type { SelfieView } from "./SelfieView";
import type { Settings } from "./Settings";
import type { UploadProgress } from "./UploadProgress";

/** What a command needs of `Channel` (`@tauri-apps/api/core`): it streams `T` to `onmessage`. */
export type Channel<T> = { onmessage: (message: T) => void };

/** Every Tauri command: its arguments (camelCase, as `invoke` takes them) and what it returns. */
export type Commands = {
  /** Called at start and after every step; the UI routes on `stage`. */
  app_state: { args: Record<string, never>; returns: AppState };
  /** Live validation; error `invalid_nik` with `detail.reason`. */
  check_nik: { args: { nik: string }; returns: NikInfo };
  /** The normalised address; error `invalid_email`. */
  check_email: { args: { email: string }; returns: string };
  /** The number as `+628…`; error `invalid_phone`. */
  check_phone: { args: { phone: string }; returns: string };
  /** Keeps the last processed selfie for submit; errors `image_too_large`, `image_invalid`. */
  process_selfie: { args: { imageB64: string }; returns: SelfieView };
  /** Uses the kept selfie; errors `consent_required`, `ineligible` (`detail.reason`: `under_age`, `not_recorded`, `deceased`), `not_found`, `offline`… `onProgress` gets the selfie upload's bytes the server has stored (`UploadProgress`). */
  submit_enrollment: { args: { form: RegisterForm; onProgress: Channel<UploadProgress> }; returns: EnrollmentView };
  /** Desktop "choose an image of the QR"; error `qr_invalid`. */
  decode_qr_image: { args: { imageB64: string }; returns: string };
  /** Errors `qr_invalid`, `qr_expired`, `qr_used`. */
  scan_desk_qr: { args: { text: string }; returns: EnrollmentView };
  /** The UI polls this with backoff while `submitted`/`scanned`. */
  refresh_status: { args: Record<string, never>; returns: EnrollmentView };
  /** Error `rate_limited` with `detail.retry_after_secs`. */
  resend_code: { args: Record<string, never>; returns: EnrollmentView };
  /** Then stage `needs_pin`; errors `code_wrong` (`detail.attempts_left`), `code_expired`, `code_void`. */
  activate: { args: { code: string }; returns: AppState };
  /** Policy only; error `pin_policy` with `detail.reason`: `length`, `repeated`, `sequence`, `birth_date`. */
  check_pin: { args: { pin: string }; returns: null };
  /** Then stage `unlocked`; errors `pin_policy`, `pin_mismatch`; the vault, both documents, the tokens and the state change are one SQLite transaction (on failure nothing changes and the PIN can be set again). */
  set_pin: { args: { pin: string; confirm: string }; returns: AppState };
  /** Errors `wrong_pin` (`detail`: `LockoutView`), `locked_out` (`detail`: `LockoutView`), `vault_wiped`. */
  unlock: { args: { pin: string }; returns: AppState };
  lock: { args: Record<string, never>; returns: AppState };
  /** User activity; resets the idle timer. */
  touch: { args: Record<string, never>; returns: null };
  /** Needs unlocked, else `vault_locked`. */
  home: { args: Record<string, never>; returns: HomeView };
  /** Signature re-checked each call; `issuer` is for display: the issuer metadata's `display` name with its host, or the host. */
  ktp: { args: Record<string, never>; returns: KtpView };
  kk: { args: Record<string, never>; returns: KkView };
  /** Newest first. */
  history: { args: Record<string, never>; returns: Array<HistoryEntry> };
  /** Re-wraps the key only (one write with its history entry). */
  change_pin: { args: { oldPin: string; newPin: string }; returns: null };
  /** Checks the PIN like `unlock` (a wrong one counts as an attempt: `wrong_pin` / `locked_out` with `LockoutView`) without changing the session; Ubah PIN asks it first. */
  verify_pin: { args: { pin: string }; returns: null };
  /** Bagikan data: fetches and checks the signed request behind an `openid4vp://` link, evaluates DCQL against KTP and KK (needs unlocked) and keeps it for `present` / `decline_presentation`; error `qr_invalid` with `detail.reason` (`unknown_verifier`, `bad_signature`, `client_id_mismatch`, `unsigned`, `certificate`, `client_id_prefix`, `malformed`). */
  presentation_request: { args: { link: string }; returns: ConsentView };
  /** "Bagikan": the PIN, then only the chosen disclosures (`choices`: claim paths, `null` = all asked) with a KB-JWT by `direct_post(.jwt)`; history `presented`; error `invalid_state` (`detail.field`) when a required field is left out. */
  present: { args: { pin: string; choices: Array<string> | null }; returns: PresentationOutcome };
  /** "Tolak": `access_denied` to the verifier; history `presentation_declined`. */
  decline_presentation: { args: Record<string, never>; returns: PresentationOutcome };
  settings: { args: Record<string, never>; returns: Settings };
  /** `backend_url` only changes in dev builds. */
  set_settings: { args: { settings: Settings }; returns: Settings };
  /** Fetches fresh credentials with the device token; both documents and the tokens are replaced in one transaction, or none. */
  refresh_documents: { args: Record<string, never>; returns: null };
  /** Lepas Perangkat: tells the backend, wipes local data (then stage `welcome`). */
  release_device: { args: Record<string, never>; returns: AppState };
  /** Lupa PIN, or documents wiped after 10 wrong PINs: the backend revokes the device's tokens and mails a code (enrollment token + device-key proof); the answer carries the masked email, code expiry and tries left, and `AppState.pin_reset_pending` is then true. `onProgress` gets nothing yet: the selfie goes inline, and bytes handed to the connection are not bytes sent. */
  forgot_pin: { args: { onProgress: Channel<UploadProgress> }; returns: EnrollmentView };
  /** Redeems the mailed code, downloads KTP and KK again (checked against the pinned issuer key) and holds them until `set_pin` replaces the old vault (then stage `needs_pin`). */
  reset_pin_with_code: { args: { code: string }; returns: AppState };
  /** Stops the network requests in flight (the resident left the screen): they end with `cancelled`; nothing half-done is kept, and the step's request (its idempotency key and body) stays for "Coba lagi". */
  cancel_network: { args: Record<string, never>; returns: null };
  /** Keeps the registration form (sealed in the wallet's store) until it is submitted. */
  save_draft: { args: { form: RegisterForm }; returns: null };
  /** The form and selfie kept since before a restart (until submitted). */
  draft: { args: Record<string, never>; returns: Draft };
  /** Start over after `rejected` or `expired`. */
  reset_enrollment: { args: Record<string, never>; returns: AppState };
  /** "Periksa KTP": asks the configured verifier service for a request (`check`: `identitas`, `usia17`, `kk`) and its QR; errors `offline`, `timeout`. */
  start_check: { args: { check: string }; returns: CheckRequestView };
  /** The verifier's result so far (`status` `pending` until the other wallet answers); the first final one adds the history line "Anda memeriksa …". */
  check_result: { args: { id: string }; returns: CheckResultView };
};

export type CommandName = keyof Commands;

/** Every command, in the order of commands.rs. */
export const COMMAND_NAMES = [
  "app_state",
  "check_nik",
  "check_email",
  "check_phone",
  "process_selfie",
  "submit_enrollment",
  "decode_qr_image",
  "scan_desk_qr",
  "refresh_status",
  "resend_code",
  "activate",
  "check_pin",
  "set_pin",
  "unlock",
  "lock",
  "touch",
  "home",
  "ktp",
  "kk",
  "history",
  "change_pin",
  "verify_pin",
  "presentation_request",
  "present",
  "decline_presentation",
  "settings",
  "set_settings",
  "refresh_documents",
  "release_device",
  "forgot_pin",
  "reset_pin_with_code",
  "cancel_network",
  "save_draft",
  "draft",
  "reset_enrollment",
  "start_check",
  "check_result",
] as const satisfies readonly CommandName[];
