// A 6-digit code screen (activation code, Lupa PIN code): validity, tries left, boxes + keypad.
// The boxes and the submit button are one form, so Enter submits.
import { h, replace } from '../dom';
import { errorText, t, type Key } from '../i18n';
import { button, errorBanner, frame, step, type Screen } from '../ui';
import { createCodeEntry } from './codeentry';
import { durationText, secsUntil } from '../format';
import type { Ctx } from '../ctx';
import type { AppState, ErrorCode, UiError } from '../types';

/** What differs between the activation code screen and the "Lupa PIN" code screen. */
export type CodeScreenOpts = {
  name: string;
  title: string;
  intro: string;
  /** The boxes' group name. */
  label: string;
  submitText: string;
  submitTestId: string;
  busyText: string;
  run: (code: string) => Promise<AppState>;
  back: () => void;
  /** Where "ask for a new code" leads when the code expired or is void. */
  again: { text: string; testid: string; go: () => void };
  /** Also offer "ask again" as a link under the submit button. */
  againLink?: boolean;
  /** This screen's own wording of the code errors (default: the activation code's). */
  errors?: Partial<Record<ErrorCode, Key>>;
  /** "Langkah n dari 4" */
  step?: number;
};

export function codeEntryScreen(ctx: Ctx, o: CodeScreenOpts): Screen {
  const e = ctx.state?.enrollment ?? null;
  const slot = h('div', { class: 'slot' });
  const validity = h('p', { class: 'code-validity', 'data-testid': 'code-validity' });
  const attempts = h('p', { class: 'code-attempts', 'data-testid': 'code-attempts' });
  const submit = button(o.submitText, o.submitTestId, () => { /* the form's submit */ }, 'primary', { disabled: true, type: 'submit' });
  const entry = createCodeEntry({
    label: o.label,
    nativeKeyboard: !ctx.isMobile(),
    onChange: (c) => { submit.disabled = c.length !== 6; },
  });

  const setAttempts = (n: number | null | undefined) => {
    attempts.hidden = n === null || n === undefined;
    attempts.textContent = n === null || n === undefined ? '' : t('code_attempts', { n });
  };
  setAttempts(e?.code_attempts_left);

  const tick = () => {
    if (!e?.code_expires_at) { validity.hidden = true; return; }
    const left = secsUntil(e.code_expires_at);
    validity.textContent = left > 0 ? t('code_validity', { time: durationText(left) }) : t('code_expired_now');
    validity.classList.toggle('expired', left <= 0);
  };
  tick();
  const timer = setInterval(tick, 15000);

  const words = (err: UiError): string => {
    const k = o.errors?.[err.code];
    if (!k) return errorText(err);
    const n = err.detail?.attempts_left;
    return typeof n === 'number' ? `${t(k)} ${t('code_attempts', { n })}` : t(k);
  };

  function doSubmit(): void {
    const code = entry.value();
    if (code.length !== 6) return;
    entry.setDisabled(true);
    void step({
      slot, busyOn: el, text: o.busyText, disable: [submit],
      run: () => o.run(code),
      ok: (s) => { ctx.state = s; void ctx.route(); },
      fail: (err) => {
        entry.setDisabled(false);
        entry.clear();
        submit.disabled = true;
        if (err.code === 'code_wrong') {
          const n = err.detail?.attempts_left;
          if (typeof n === 'number') setAttempts(n);
          replace(slot, errorBanner(words(err)));
          entry.focusFirst();
          return true;
        }
        if (err.code === 'code_expired' || err.code === 'code_void') {
          const again = button(o.again.text, o.again.testid, o.again.go, 'secondary');
          replace(slot, errorBanner(words(err)), again);
          again.focus();
          return true;
        }
        entry.focusFirst();
        return false;
      },
    });
  }

  const form = h('form', { class: 'code-form', novalidate: true },
    entry.el,
    slot,
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); doSubmit(); });

  const el = frame(o.name, o.title, { back: o.back, step: o.step },
    h('p', null, o.intro),
    h('div', { class: 'code-meta' }, validity, attempts),
    form,
    o.againLink ? h('div', { class: 'actions' }, button(o.again.text, `${o.again.testid}-link`, o.again.go, 'link')) : null);
  return { el, destroy: () => clearInterval(timer) };
}
