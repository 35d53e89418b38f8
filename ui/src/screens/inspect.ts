// Periksa KTP: check someone else's IKD through the configured verifier service. Pick a
// check, show the verifier's QR, poll for the result, show the verified portrait and
// fields. Nothing the other person shares is stored (the shell keeps a history line only).
import { h, replace } from '../dom';
import { fieldLabel, t, type Key } from '../i18n';
import { api, toUiError } from '../api';
import { button, errorBanner, frame, notice, step, type Screen } from '../ui';
import type { Ctx } from '../ctx';
import type { CheckRequestView, CheckResultView } from '../types';

const CHECKS = ['identitas', 'usia17', 'kk'] as const;
/** How often the verifier is asked for the result while the QR is shown. */
const POLL_MS = 2000;

export function inspectScreen(ctx: Ctx): Screen {
  const slot = h('div', { class: 'slot' });
  const body = h('div');
  const el = frame('inspect', t('inspect_title'), { back: () => ctx.show('home') }, body, slot);
  const title = el.querySelector('h1') as HTMLElement;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let alive = true;
  const stop = () => { if (timer) clearTimeout(timer); timer = null; };
  const setTitle = (s: string) => { title.textContent = s; title.focus({ preventScroll: true }); };

  function entry(): void {
    stop();
    setTitle(t('inspect_title'));
    replace(slot);
    replace(body,
      h('p', null, t('inspect_intro')),
      h('div', { class: 'actions stack' }, CHECKS.map((c) => button(t(`inspect_${c}` as Key), `btn-check-${c}`, () => start(c), 'secondary'))));
  }

  function start(check: string): void {
    void step({
      slot, busyOn: el, text: t('inspect_starting'),
      run: () => api.startCheck(check),
      ok: (r) => waiting(r),
      fail: (err) => { if (err.code === 'vault_locked') { void ctx.route(); return true; } return false; },
    });
  }

  function waiting(r: CheckRequestView): void {
    setTitle(t('inspect_qr_title'));
    const status = h('p', { role: 'status', 'data-testid': 'inspect-waiting' }, t('inspect_waiting'));
    replace(body,
      h('figure', { class: 'qr-figure', 'data-testid': 'inspect-qr' },
        h('img', { class: 'qr-image', src: `data:image/png;base64,${r.qr_png_b64}`, alt: t('inspect_qr_alt'), width: 280, height: 280 })),
      status,
      h('details', null, h('summary', null, t('inspect_link')), h('p', { class: 'small qr-text', 'data-testid': 'inspect-link' }, r.url)),
      h('div', { class: 'actions' }, button(t('cancel'), 'btn-inspect-cancel', () => entry(), 'secondary')));
    const poll = async () => {
      timer = null;
      try {
        const res = await api.checkResult(r.id);
        if (!alive) return;
        if (res.status === 'pending') { timer = setTimeout(() => void poll(), POLL_MS); return; }
        result(res);
      } catch (e) {
        if (!alive) return;
        replace(slot, errorBanner(toUiError(e), () => { replace(slot); void poll(); }));
      }
    };
    timer = setTimeout(() => void poll(), POLL_MS);
  }

  function result(r: CheckResultView): void {
    stop();
    setTitle(t('result_title'));
    const kind = r.status === 'valid' ? 'success' : 'warn';
    const text = r.status === 'valid' ? t('inspect_valid')
      : r.status === 'revoked' ? t('inspect_revoked')
        : r.status === 'declined' ? t('inspect_declined')
          : t('inspect_invalid', { reason: r.reason ?? '' });
    const shown = (v: string) => (v === 'true' ? t('field_yes') : v === 'false' ? t('field_no') : v);
    replace(body,
      h('div', { 'data-testid': `inspect-result-${r.status}` }, notice(text, kind, 'inspect-result')),
      r.portrait_b64 ? h('img', { class: 'consent-photo', 'data-testid': 'inspect-portrait', src: `data:image/jpeg;base64,${r.portrait_b64}`, alt: t('inspect_portrait_alt') }) : null,
      r.fields.length
        ? h('section', { class: 'group' }, h('h2', null, t('inspect_fields')),
          h('dl', { class: 'consent-fields', 'data-testid': 'inspect-fields' }, r.fields.flatMap((f) => {
            const name = f.path.split(/[.[]/)[0];
            return [h('dt', null, fieldLabel(f.path.replace(/\[\d+\]/, '[*]'), name)), h('dd', null, shown(f.value))];
          })))
        : null,
      h('div', { class: 'actions' },
        button(t('inspect_again'), 'btn-inspect-again', () => entry(), 'secondary'),
        button(t('btn_home'), 'btn-inspect-home', () => ctx.show('home'))));
  }

  entry();
  return { el, destroy: () => { alive = false; stop(); } };
}
