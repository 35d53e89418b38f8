// The router: one screen at a time, chosen from app_state.
import { h, replace } from './dom';
import { setLang, t } from './i18n';
import { api, onLocked, onPresentationLink, toUiError } from './api';
import { errorBanner, frame, type Screen } from './ui';
import { inflight, onOfflineChange, setOffline } from './net';
import type { Ctx, ScreenName } from './ctx';
import type { AppState } from './types';
import { registerScreen, selfieScreen, submittedScreen, welcomeScreen } from './screens/onboarding';
import { codeScreen, scanScreen, statusScreen } from './screens/enroll';
import { forgotPinScreen, resetCodeScreen, resetSelfieScreen } from './screens/reset';
import { presentScreen } from './screens/present';
import { inspectScreen } from './screens/inspect';
import { createPinScreen, historyScreen, homeScreen, kkScreen, ktpScreen, pinScreen, settingsScreen } from './screens/wallet';

const screens: Record<ScreenName, (ctx: Ctx) => Screen> = {
  welcome: welcomeScreen,
  register: registerScreen,
  selfie: selfieScreen,
  submitted: submittedScreen,
  scan: scanScreen,
  status: statusScreen,
  code: codeScreen,
  'create-pin': createPinScreen,
  home: homeScreen,
  pin: pinScreen,
  ktp: ktpScreen,
  kk: kkScreen,
  history: historyScreen,
  settings: settingsScreen,
  'forgot-pin': forgotPinScreen,
  'reset-selfie': resetSelfieScreen,
  'reset-code': resetCodeScreen,
  present: presentScreen,
  inspect: inspectScreen,
};

const UNLOCKED_SCREENS: ScreenName[] = ['home', 'ktp', 'kk', 'history', 'settings', 'present', 'inspect'];

export function screenFor(s: AppState): ScreenName {
  switch (s.stage) {
    case 'welcome': return 'welcome';
    case 'draft': return 'register';
    case 'enrolling': {
      const st = s.enrollment?.status;
      return st === 'submitted' ? 'submitted' : 'status';
    }
    case 'needs_pin': return 'create-pin';
    case 'locked': return s.pin_reset_pending ? 'reset-code' : 'pin';
    case 'unlocked': return 'home';
  }
}

/**
 * Before submit, what the resident typed and photographed survives a restart (kept,
 * sealed, by the wallet): the form comes back, and with a selfie the review screen.
 */
async function resumeDraft(ctx: Ctx, s: AppState): Promise<ScreenName> {
  const name = screenFor(s);
  if (s.stage !== 'welcome' && s.stage !== 'draft') return name;
  if (ctx.form.nik || ctx.selfie) return name;
  try {
    const d = await api.draft();
    if (d.form) ctx.form = { ...d.form };
    if (d.selfie) ctx.selfie = d.selfie;
    if (d.form && d.selfie?.acceptable) return 'submitted';
    if (d.form) return 'register';
  } catch { /* an old shell without drafts: start fresh */ }
  return name;
}

export function isMobileUa(ua: string): boolean {
  return /Android|iPhone|iPad|iPod/i.test(ua);
}

/** Start-up probe read by scripts/startup: marks the first screen's insertion and the
 * first frame painted after it (a task queued from the next animation frame runs after
 * that frame's paint). */
function markFirstScreen(): void {
  performance.mark('ikd-first-screen');
  requestAnimationFrame(() => setTimeout(() => performance.mark('ikd-first-screen-painted'), 0));
}

export function startApp(root: HTMLElement): Ctx {
  let current: Screen | null = null;
  let currentName: ScreenName | null = null;
  let firstShown = false;

  const ctx: Ctx = {
    state: null,
    form: { nik: '', email: '', phone: '', consent: false },
    nikInfo: null,
    selfie: null,
    justSubmitted: false,
    presentationLink: null,
    show(name) {
      // Leaving a screen stops its network step (the wallet keeps the step's request,
      // so "Coba lagi" later resends the same one).
      if (inflight() > 0) api.cancelNetwork().catch(() => { /* nothing to stop */ });
      current?.destroy?.();
      currentName = name;
      current = screens[name](ctx);
      replace(root, current.el);
      const h1 = current.el.querySelector('h1');
      if (h1 && typeof (h1 as HTMLElement).focus === 'function') (h1 as HTMLElement).focus({ preventScroll: true });
      window.scrollTo?.(0, 0);
      if (!firstShown) {
        firstShown = true;
        markFirstScreen();
      }
    },
    async route() {
      try {
        const s = await api.appState();
        if (!firstShown) performance.mark('ikd-app-state');
        ctx.state = s;
        setLang(s.settings.language);
        ctx.show(await resumeDraft(ctx, s));
      } catch (e) {
        current?.destroy?.();
        current = null;
        currentName = null;
        replace(root, frame('error', t('app_short'), {}, errorBanner(toUiError(e), () => void ctx.route())));
      }
    },
    rerender() {
      if (currentName) ctx.show(currentName);
    },
    isMobile() {
      const p = (ctx.state as unknown as { platform?: string } | null)?.platform;
      if (p) return p === 'android' || p === 'ios';
      return isMobileUa(navigator.userAgent);
    },
  };

  // An openid4vp:// link (phones): the consent screen once unlocked (after the PIN pad,
  // the home screen's "Bagikan data" tile opens it).
  void onPresentationLink((link) => {
    ctx.presentationLink = link;
    if (ctx.state?.stage === 'unlocked') ctx.show('present');
  });

  // The shell locks on idle or background: show the PIN pad.
  void onLocked((s) => {
    ctx.state = s;
    if (currentName !== 'pin' && s.stage === 'locked') ctx.show('pin');
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return;
    if (currentName && UNLOCKED_SCREENS.includes(currentName)) {
      api.appState().then((s) => {
        ctx.state = s;
        if (s.stage === 'locked') ctx.show('pin');
      }, () => { /* keep the screen */ });
    }
  });

  // User activity resets the shell's idle timer (at most once per 10 s).
  let lastTouch = 0;
  const touch = () => {
    if (ctx.state?.stage !== 'unlocked') return;
    const now = Date.now();
    if (now - lastTouch < 10000) return;
    lastTouch = now;
    api.touch().catch(() => { /* not important */ });
  };
  document.addEventListener('pointerdown', touch, { passive: true });
  document.addEventListener('keydown', touch);

  // The offline banner: the backend could not be reached at the last try (or the OS
  // says the device is offline); the next answer lowers it.
  const banner = h('div', { class: 'offline-banner', role: 'status', 'data-testid': 'offline-banner', hidden: true }, t('offline_banner'));
  root.before(banner);
  onOfflineChange((off) => {
    banner.textContent = t('offline_banner');
    banner.hidden = !off;
  });
  window.addEventListener('offline', () => setOffline(true));

  replace(root, h('div', { class: 'boot', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('loading')));
  void ctx.route();
  return ctx;
}
