// Scan the desk QR, enrollment status, activation code.
import { h, replace, uid } from '../dom';
import { t } from '../i18n';
import { api } from '../api';
import { button, busyBox, errorBanner, fileToBase64, frame, keepFocus, notice, step, type Screen } from '../ui';
import { codeEntryScreen } from '../components/codescreen';
import { deskConfirmBox } from '../components/deskconfirm';
import type { Ctx } from '../ctx';
import type { EnrollmentView, UiError } from '../types';

function afterScan(ctx: Ctx, v: EnrollmentView): void {
  if (ctx.state) ctx.state.enrollment = v;
  ctx.show(v.status === 'approved' ? 'code' : 'status');
}

export function scanScreen(ctx: Ctx): Screen {
  const slot = h('div', { class: 'slot' });
  const el = frame('scan', t('scan_title'), { back: () => ctx.show('submitted'), step: 3 });
  const content = el.querySelector('.content') as HTMLElement;

  const send = (text: string) => step({
    slot, busyOn: el, text: t('scanning'),
    run: () => api.scanDeskQr(text.trim()),
    ok: (v) => afterScan(ctx, v),
  });

  if (ctx.isMobile()) {
    const scanBtn = button(t('btn_scan_camera'), 'btn-scan-camera', () => void scanMobile());
    content.append(h('p', null, t('scan_intro_mobile')), slot, h('div', { class: 'actions' }, scanBtn));
    const scanMobile = async () => {
      replace(slot, busyBox(t('loading')));
      try {
        const bs = await import('@tauri-apps/plugin-barcode-scanner');
        let perm = await bs.checkPermissions();
        if (perm !== 'granted') perm = await bs.requestPermissions();
        if (perm !== 'granted') {
          replace(slot, notice(t('scan_denied'), 'warn'),
            button(t('btn_open_settings'), 'btn-open-settings', () => { void bs.openAppSettings(); }, 'secondary'));
          return;
        }
        replace(slot);
        const res = await bs.scan({ formats: [bs.Format.QRCode] });
        await send(res.content);
      } catch (e) {
        replace(slot, errorBanner({ code: 'qr_invalid', message: String(e), detail: null }, () => void scanMobile()));
      }
    };
    void scanMobile();
  } else {
    const fileInput = h('input', { type: 'file', accept: 'image/png,image/jpeg', 'data-testid': 'input-qr-file', class: 'file-input', id: uid('qr') });
    fileInput.addEventListener('change', async () => {
      const file = fileInput.files?.[0];
      if (!file) return;
      const b64 = await fileToBase64(file);
      fileInput.value = '';
      void step({
        slot, busyOn: el, text: t('scanning'),
        run: () => api.decodeQrImage(b64),
        ok: (text) => void send(text),
        retry: false,
      });
    });
    const textId = uid('qrt');
    const text = h('textarea', { id: textId, 'data-testid': 'input-qr-text', rows: 3, class: 'qr-text', autocomplete: 'off', spellcheck: 'false' });
    const submit = button(t('btn_qr_text_submit'), 'btn-qr-text-submit', () => { if (text.value.trim()) void send(text.value); });
    content.append(
      h('p', null, t('scan_intro_desktop')),
      h('div', { class: 'actions' }, h('div', { class: 'file-pick' }, fileInput, h('label', { for: fileInput.id, class: 'btn btn-secondary file-label' }, t('qr_file_label')))),
      h('div', { class: 'field' }, h('label', { for: textId }, t('qr_text_label')), text),
      h('div', { class: 'actions' }, submit),
      slot);
  }
  return { el };
}

function statusLine(v: EnrollmentView): string {
  switch (v.status) {
    case 'submitted': return t('status_submitted');
    case 'scanned': return t('status_scanned', { desk: v.desk_name ? ` (${v.desk_name})` : '' });
    case 'approved': return t('status_approved', { email: v.email_masked ?? t('your_email') });
    case 'activated': return t('status_activated');
    case 'rejected': return t('status_rejected');
    case 'expired': return t('status_expired');
  }
}

/** The polling backoff: 2 s, 4, 8, 16, then 30 s. */
export function nextDelay(prevMs: number | null): number {
  if (prevMs === null) return 2000;
  return Math.min(30000, prevMs * 2);
}

export function statusScreen(ctx: Ctx): Screen {
  const slot = h('div', { class: 'slot' });
  const info = h('div', { class: 'status-box' });
  const actions = h('div', { class: 'actions' });
  const el = frame('status', t('status_title'), { step: 3 }, info, slot, actions);
  let timer: ReturnType<typeof setTimeout> | null = null;
  let delay: number | null = null;
  let resendTimer: ReturnType<typeof setInterval> | null = null;
  let alive = true;

  // Polling re-renders the box and the buttons: a keyboard user's focus stays where it was.
  function render(v: EnrollmentView): void {
    keepFocus(el, () => renderNow(v), () => el.querySelector<HTMLElement>('.actions button'));
  }

  function renderNow(v: EnrollmentView): void {
    if (ctx.state) ctx.state.enrollment = v;
    const kind = v.status === 'approved' ? 'ok' : v.status === 'rejected' || v.status === 'expired' ? 'bad' : 'wait';
    replace(info,
      h('div', { class: `status-pill ${kind}` },
        kind === 'wait' ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : h('span', { 'aria-hidden': 'true' }, kind === 'ok' ? '✓' : '!'),
        h('p', { 'data-testid': 'status-text', role: 'status', 'aria-live': 'polite' }, statusLine(v))),
      v.status === 'rejected' && v.reject_reason ? h('p', { class: 'reason' }, t('reject_reason', { reason: v.reject_reason })) : null,
      v.status === 'scanned' ? deskConfirmBox(v.desk_confirm_code) : null,
      kind === 'wait' ? h('p', { class: 'small' }, t('status_next_check')) : null);
    const resend = button(t('btn_resend'), 'btn-resend', () => doResend(resend), 'secondary');
    replace(actions,
      v.status === 'approved' ? [button(t('btn_enter_code'), 'btn-enter-code', () => ctx.show('code')), resend] : null,
      v.status === 'submitted' ? button(t('btn_scan_qr'), 'btn-scan-qr', () => ctx.show('scan')) : null,
      kind === 'wait' ? button(t('btn_refresh'), 'btn-refresh-status', () => { delay = null; void poll(); }, 'secondary') : null,
      kind === 'bad' ? button(t('btn_start_over'), 'btn-start-over', () => void step({
        slot, busyOn: el, text: t('busy'), run: () => api.resetEnrollment(),
        ok: () => { ctx.selfie = null; ctx.justSubmitted = false; void ctx.route(); },
      }), 'primary') : null);
    if (kind === 'wait') schedule(); else stopPolling();
  }

  function doResend(btn: HTMLButtonElement): void {
    void step({
      slot, busyOn: el, text: t('busy'), disable: [btn],
      run: () => api.resendCode(),
      ok: (v) => { render(v); slot.append(notice(t('resend_done'), 'success')); },
      fail: (err: UiError) => {
        const secs = err.detail?.retry_after_secs;
        if (err.code === 'rate_limited' && typeof secs === 'number') {
          let left = Math.ceil(secs);
          const msg = notice(t('resend_wait', { secs: left }), 'info', 'resend-wait');
          replace(slot, msg);
          btn.disabled = true;
          if (resendTimer) clearInterval(resendTimer);
          resendTimer = setInterval(() => {
            left -= 1;
            if (left <= 0 || !alive) {
              if (resendTimer) clearInterval(resendTimer);
              btn.disabled = false;
              msg.remove();
              return;
            }
            msg.textContent = t('resend_wait', { secs: left });
          }, 1000);
          return true;
        }
        return false;
      },
    });
  }

  function stopPolling(): void {
    if (timer) clearTimeout(timer);
    timer = null;
  }

  function schedule(): void {
    stopPolling();
    if (!alive || document.visibilityState === 'hidden') return;
    delay = nextDelay(delay);
    timer = setTimeout(() => void poll(), delay);
  }

  async function poll(): Promise<void> {
    stopPolling();
    if (!alive) return;
    try {
      const v = await api.refreshStatus();
      if (!alive) return;
      replace(slot);
      render(v);
    } catch (e) {
      if (!alive) return;
      replace(slot, errorBanner(e as UiError, () => { delay = null; void poll(); }));
      schedule();
    }
  }

  const onVis = () => {
    if (document.visibilityState === 'visible' && alive && timer === null) { delay = null; void poll(); } else if (document.visibilityState === 'hidden') stopPolling();
  };
  document.addEventListener('visibilitychange', onVis);

  const v = ctx.state?.enrollment;
  if (v) render(v);
  replace(slot, busyBox(t('status_checking')));
  void poll();
  return {
    el,
    destroy() {
      alive = false;
      stopPolling();
      if (resendTimer) clearInterval(resendTimer);
      document.removeEventListener('visibilitychange', onVis);
    },
  };
}

export function codeScreen(ctx: Ctx): Screen {
  return codeEntryScreen(ctx, {
    name: 'code',
    title: t('code_title'),
    intro: t('code_intro', { email: ctx.state?.enrollment?.email_masked ?? t('your_email') }),
    label: t('code_group'),
    step: 4,
    submitText: t('btn_code_submit'),
    submitTestId: 'btn-code-submit',
    busyText: t('activating'),
    run: (code) => api.activate(code),
    back: () => ctx.show('status'),
    again: { text: t('btn_resend'), testid: 'btn-resend', go: () => ctx.show('status') },
  });
}
