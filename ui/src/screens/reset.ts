// Lupa PIN: ask for a code by email, enter it, then create a new PIN (create-pin).
// Also the way back after 10 wrong PINs wiped the documents.
import { h, replace } from '../dom';
import { t } from '../i18n';
import { api } from '../api';
import { button, errorBanner, frame, notice, step, type Screen } from '../ui';
import { createCodeEntry } from '../components/codeentry';
import { hhmm, secsUntil } from '../format';
import type { Ctx } from '../ctx';

/** Explains what happens, then asks the backend to mail a code. */
export function forgotPinScreen(ctx: Ctx): Screen {
  const slot = h('div', { class: 'slot' });
  const wiped = ctx.state?.documents_wiped ?? false;
  const send = button(t('btn_reset_send'), 'btn-reset-send', () => {
    void step({
      slot, busyOn: el, text: t('reset_sending'), disable: [send],
      run: () => api.forgotPin(),
      ok: (v) => {
        if (ctx.state) ctx.state = { ...ctx.state, enrollment: v, pin_reset_pending: true };
        ctx.show('reset-code');
      },
      fail: (err) => {
        if (err.code === 'rate_limited') {
          const secs = Number((err.detail as { retry_after_secs?: number } | null)?.retry_after_secs ?? 0);
          replace(slot, errorBanner(secs > 0 ? t('reset_wait', { hhmm: hhmm(secs) }) : err));
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
  const e = ctx.state?.enrollment ?? null;
  const slot = h('div', { class: 'slot' });
  const validity = h('p', { class: 'code-validity', 'data-testid': 'code-validity' });
  const attempts = h('p', { class: 'code-attempts', 'data-testid': 'code-attempts' });
  const submit = button(t('btn_reset_submit'), 'btn-reset-submit', () => doSubmit(), 'primary', { disabled: true });
  const entry = createCodeEntry({ onChange: (c) => { submit.disabled = c.length !== 6; } });
  const setAttempts = (n: number | null | undefined) => {
    attempts.hidden = n === null || n === undefined;
    attempts.textContent = n === null || n === undefined ? '' : t('code_attempts', { n });
  };
  setAttempts(e?.code_attempts_left);
  const tick = () => {
    if (!e?.code_expires_at) { validity.hidden = true; return; }
    const left = secsUntil(e.code_expires_at);
    validity.textContent = left > 0 ? t('code_validity', { hhmm: hhmm(left) }) : t('code_expired_now');
    validity.classList.toggle('expired', left <= 0);
  };
  tick();
  const timer = setInterval(tick, 15000);

  function doSubmit(): void {
    const code = entry.value();
    if (code.length !== 6) return;
    entry.setDisabled(true);
    void step({
      slot, busyOn: el, text: t('reset_verifying'), disable: [submit],
      run: () => api.resetPinWithCode(code),
      ok: (s) => { ctx.state = s; void ctx.route(); },
      fail: (err) => {
        entry.setDisabled(false);
        entry.clear();
        if (err.code === 'code_wrong') {
          const n = err.detail?.attempts_left;
          if (typeof n === 'number') setAttempts(n);
          replace(slot, errorBanner(err));
          return true;
        }
        if (err.code === 'code_expired' || err.code === 'code_void') {
          replace(slot, errorBanner(err), button(t('btn_reset_again'), 'btn-reset-again', () => ctx.show('forgot-pin'), 'secondary'));
          return true;
        }
        return false;
      },
    });
  }

  const el = frame('reset-code', t('reset_code_title'), { back: () => ctx.show('pin') },
    h('p', null, t('reset_code_intro', { email: e?.email_masked ?? t('your_email') })),
    h('div', { class: 'code-meta' }, validity, attempts),
    entry.el,
    slot,
    h('div', { class: 'actions' }, submit,
      button(t('btn_reset_again'), 'btn-reset-again', () => ctx.show('forgot-pin'), 'link')));
  return { el, destroy: () => clearInterval(timer) };
}
