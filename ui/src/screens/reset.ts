// Lupa PIN: a fresh selfie (or a desk visit), ask for a code by email, enter it, then
// create a new PIN (create-pin).
// Also the way back after 10 wrong PINs wiped the documents.
import { h, replace } from '../dom';
import { t } from '../i18n';
import { api } from '../api';
import { button, errorBanner, frame, notice, step, type Screen } from '../ui';
import { codeEntryScreen } from '../components/codescreen';
import { durationText } from '../format';
import type { Ctx } from '../ctx';
import type { SelfieView } from '../types';
import { selfieScreen } from './onboarding';

/**
 * Explains what happens, offers a fresh selfie (an officer then reviews the request
 * remotely; without one the resident goes to the desk), then asks the backend to mail a
 * code. The selfie shown is the one the wallet holds and will send (kept across a
 * restart), asked of the wallet rather than remembered here.
 */
export function forgotPinScreen(ctx: Ctx): Screen {
  const slot = h('div', { class: 'slot' });
  const wiped = ctx.state?.documents_wiped ?? false;
  const photo = h('div', { class: 'reset-photo', 'data-testid': 'reset-photo' });
  const steps = h('ol', { class: 'steps' });
  const actions = h('div', { class: 'actions' });

  function send(): void {
    const buttons = Array.from(actions.querySelectorAll('button'));
    void step({
      slot, busyOn: el, text: t('reset_sending'), disable: buttons,
      run: (upload) => api.forgotPin(upload),
      ok: (v) => {
        ctx.selfie = null;
        if (ctx.state) ctx.state = { ...ctx.state, enrollment: v, pin_reset_pending: true };
        ctx.show('reset-code');
      },
      fail: (err) => {
        if (err.code === 'rate_limited') {
          const secs = Number((err.detail as { retry_after_secs?: number } | null)?.retry_after_secs ?? 0);
          const wait = secs <= 120 ? t('resend_wait', { secs: Math.ceil(secs) }) : t('reset_wait', { time: durationText(secs) });
          replace(slot, errorBanner(secs > 0 ? wait : err));
          return true;
        }
        return false;
      },
    });
  }

  function takeSelfie(): void {
    ctx.selfie = null;
    ctx.show('reset-selfie');
  }

  function render(selfie: SelfieView | null): void {
    replace(photo, selfie
      ? [h('img', { class: 'review-photo', 'data-testid': 'reset-selfie-thumb', src: `data:image/jpeg;base64,${selfie.preview_jpeg}`, alt: t('selfie_title') }),
        h('p', null, t('reset_selfie_ready'))]
      : h('p', null, t('reset_selfie_none')));
    replace(steps,
      h('li', null, t(selfie ? 'reset_step1_selfie' : 'reset_step1')),
      h('li', null, t('reset_step2')),
      h('li', null, t(wiped ? 'reset_step3_wiped' : 'reset_step3')));
    replace(actions, selfie
      ? [button(t('btn_reset_send'), 'btn-reset-send', send),
        button(t('btn_retake'), 'btn-reset-selfie', takeSelfie, 'secondary')]
      : [button(t('btn_reset_take_selfie'), 'btn-reset-selfie', takeSelfie),
        button(t('btn_reset_send_desk'), 'btn-reset-send', send, 'secondary')]);
  }

  const el = frame('forgot-pin', t('reset_title'), { back: () => ctx.show('pin') },
    wiped ? notice(t('reset_wiped_intro'), 'warn') : null,
    h('p', null, t('reset_intro')),
    steps,
    photo,
    slot,
    actions);
  render(null);
  api.draft()
    .then((d) => render(d.selfie))
    .catch(() => { /* an old shell without drafts: no selfie to show */ });
  return { el };
}

/** The Lupa PIN's selfie: the registration's camera and checks, back to the request. */
export function resetSelfieScreen(ctx: Ctx): Screen {
  return selfieScreen(ctx, {
    name: 'reset-selfie',
    intro: t('reset_selfie_intro'),
    back: () => ctx.show('forgot-pin'),
    accept: () => ctx.show('forgot-pin'),
  });
}

/** The 6-digit code from the reset email. */
export function resetCodeScreen(ctx: Ctx): Screen {
  return codeEntryScreen(ctx, {
    name: 'reset-code',
    title: t('reset_code_title'),
    intro: t('reset_code_intro', { email: ctx.state?.enrollment?.email_masked ?? t('your_email') }),
    label: t('reset_code_group'),
    errors: { code_wrong: 'reset_code_wrong', code_expired: 'reset_code_expired', code_void: 'reset_code_void' },
    submitText: t('btn_reset_submit'),
    submitTestId: 'btn-reset-submit',
    busyText: t('reset_verifying'),
    run: (code) => api.resetPinWithCode(code),
    back: () => ctx.show('pin'),
    again: { text: t('btn_reset_again'), testid: 'btn-reset-again', go: () => ctx.show('forgot-pin') },
    againLink: true,
  });
}
