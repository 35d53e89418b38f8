// The app context shared by the screens.
import type { AppState, NikInfo, SelfieView } from './types';

export type ScreenName =
  | 'welcome' | 'register' | 'selfie' | 'submitted' | 'scan' | 'status' | 'code' | 'create-pin'
  | 'home' | 'pin' | 'ktp' | 'kk' | 'history' | 'settings' | 'forgot-pin' | 'reset-selfie' | 'reset-code'
  | 'present' | 'inspect';

export type Ctx = {
  state: AppState | null;
  form: { nik: string; email: string; phone: string; consent: boolean };
  nikInfo: NikInfo | null;
  selfie: SelfieView | null;
  /** An `openid4vp://` link the app was opened with, for the present screen to open. */
  presentationLink: string | null;
  /** After submit: show the "visit the officer" instructions. */
  justSubmitted: boolean;
  show(name: ScreenName): void;
  /** Asks app_state and shows the screen for the stage. */
  route(): Promise<void>;
  /** Rebuilds the current screen (after a language change). */
  rerender(): void;
  isMobile(): boolean;
};
