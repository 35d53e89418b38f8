// Lupa PIN: ask for a code by email, enter it, then create a new PIN (create-pin).
// Also the way back after 10 wrong PINs wiped the documents.
import { h, replace } from '../dom';
import { t } from '../i18n';
import { api } from '../api';
import { button, errorBanner, frame, notice, step, type Screen } from '../ui';
import { codeEntryScreen } from '../components/codescreen';
import { durationText } from '../format';
import type { Ctx } from '../ctx';

/** Explains what happens, then asks the backend to mail a code. */
export function forgotPinScreen(ctx: Ctx): Screen {
  const slot = h('div', { class: 'slot' });
  const wiped = ctx.state?.documents_wiped ?? false;
  const send = button(t('btn_reset_send'), 'btn-reset-send', () => {
    void step({
      slot, busyOn: el, text: t('reset_sending'), disable: [send],
      run: (upload) => api.forgotPin(upload),
      ok: (v) => {
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
  });
  const el = frame('forgot-pin', t('reset_title'), { back: () => ctx.show('pin') },
    wiped ? notice(t('reset_wiped_intro'), 'warn') : null,
    h('p', null, t('reset_intro')),
    h('ol', { class: 'steps' },
      h('li', null, t('reset_step1')),
      h('li', null, t('reset_step2')),
      h('li', null, t(wiped ? 'reset_step3_wiped' : 'reset_step3'))),
    slot,
    h('div', { class: 'actions' }, send));
  return { el };
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
