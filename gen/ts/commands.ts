import type { AppState } from "./AppState";
import type { EnrollmentView } from "./EnrollmentView";
import type { HistoryEntry } from "./HistoryEntry";
import type { HomeView } from "./HomeView";
import type { KkView } from "./KkView";
import type { KtpView } from "./KtpView";
import type { NikInfo } from "./NikInfo";
import type { RegisterForm } from "./RegisterForm";
import type { SelfieView } from "./SelfieView";
import type { Settings } from "./Settings";
export type Commands = {
  app_state: { args: Record<string, never>; returns: AppState };
  check_nik: { args: { nik: string }; returns: NikInfo };
  check_email: { args: { email: string }; returns: string };
  check_phone: { args: { phone: string }; returns: string };
  process_selfie: { args: { imageB64: string }; returns: SelfieView };
  submit_enrollment: { args: { form: RegisterForm }; returns: EnrollmentView };
  decode_qr_image: { args: { imageB64: string }; returns: string };
  scan_desk_qr: { args: { text: string }; returns: EnrollmentView };
  refresh_status: { args: Record<string, never>; returns: EnrollmentView };
  resend_code: { args: Record<string, never>; returns: EnrollmentView };
  activate: { args: { code: string }; returns: AppState };
  check_pin: { args: { pin: string }; returns: null };
  set_pin: { args: { pin: string; confirm: string }; returns: AppState };
  unlock: { args: { pin: string }; returns: AppState };
  lock: { args: Record<string, never>; returns: AppState };
  touch: { args: Record<string, never>; returns: null };
  home: { args: Record<string, never>; returns: HomeView };
  ktp: { args: Record<string, never>; returns: KtpView };
  kk: { args: Record<string, never>; returns: KkView };
  history: { args: Record<string, never>; returns: Array<HistoryEntry> };
  change_pin: { args: { oldPin: string; newPin: string }; returns: null };
  settings: { args: Record<string, never>; returns: Settings };
  set_settings: { args: { settings: Settings }; returns: Settings };
  refresh_documents: { args: Record<string, never>; returns: null };
  release_device: { args: Record<string, never>; returns: AppState };
  forgot_pin: { args: Record<string, never>; returns: EnrollmentView };
  reset_pin_with_code: { args: { code: string }; returns: AppState };
  reset_enrollment: { args: Record<string, never>; returns: AppState };
};
export type CommandName = keyof Commands;
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
  "settings",
  "set_settings",
  "refresh_documents",
  "release_device",
  "forgot_pin",
  "reset_pin_with_code",
  "reset_enrollment",
] as const satisfies readonly CommandName[];
