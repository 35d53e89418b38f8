// Bagikan data (OpenID4VP): scan the verifier's QR (or paste its link), the consent screen
// (who asks, why, exactly which fields), "Bagikan" with the PIN or "Tolak", then the result.
import { h, replace, uid } from '../dom';
import { errorCodeText, fieldLabel, t } from '../i18n';
import { api } from '../api';
import { button, busyBox, errorBanner, fileToBase64, frame, notice, step, type Screen } from '../ui';
import { createPinPad, type PinPad } from '../components/pinpad';
import type { Ctx } from '../ctx';
import type { ConsentView, LockoutView, PresentationOutcome, VerifierView } from '../types';

function who(v: VerifierView): string {
  return v.name ? `${v.name} (${v.host})` : v.host;
}

export function presentScreen(ctx: Ctx): Screen {
  const slot = h('div', { class: 'slot' });
  const body = h('div');
  const el = frame('present', t('present_title'), { back: () => ctx.show('home') }, body, slot);
  const title = el.querySelector('h1') as HTMLElement;
  let pad: PinPad | null = null;

  const setTitle = (s: string) => { title.textContent = s; title.focus({ preventScroll: true }); };
  const locked = (code: string) => { if (code === 'vault_locked') { void ctx.route(); return true; } return false; };

  const open = (link: string) => void step({
    slot, busyOn: el, text: t('present_checking'),
    run: () => api.presentationRequest(link.trim()),
    ok: (v) => consent(v),
    fail: (err) => locked(err.code),
  });

  function entry(): void {
    if (ctx.isMobile()) {
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
          open(res.content);
        } catch (e) {
          replace(slot, errorBanner({ code: 'qr_invalid', message: String(e), detail: null }, () => void scanMobile()));
        }
      };
      replace(body, h('p', null, t('present_intro_mobile')),
        h('div', { class: 'actions' }, button(t('btn_scan_camera'), 'btn-scan-camera', () => void scanMobile())));
      return;
    }
    const fileInput = h('input', { type: 'file', accept: 'image/png,image/jpeg', 'data-testid': 'input-vp-file', class: 'file-input', id: uid('vpq') });
    fileInput.addEventListener('change', async () => {
      const file = fileInput.files?.[0];
      if (!file) return;
      const b64 = await fileToBase64(file);
      fileInput.value = '';
      void step({ slot, busyOn: el, text: t('scanning'), run: () => api.decodeQrImage(b64), ok: (text) => open(text), retry: false });
    });
    const textId = uid('vpt');
    const text = h('textarea', { id: textId, 'data-testid': 'input-vp-link', rows: 3, class: 'qr-text', autocomplete: 'off', spellcheck: 'false' });
    replace(body,
      h('p', null, t('present_intro_desktop')),
      h('div', { class: 'actions' }, h('div', { class: 'file-pick' }, fileInput, h('label', { for: fileInput.id, class: 'btn btn-secondary file-label' }, t('qr_file_label')))),
      h('div', { class: 'field' }, h('label', { for: textId }, t('present_link_label')), text),
      h('div', { class: 'actions' }, button(t('btn_qr_text_submit'), 'btn-vp-link-submit', () => { if (text.value.trim()) open(text.value); })));
  }

  function consent(v: ConsentView): void {
    setTitle(t('consent_title'));
    const vf = v.verifier;
    const registered = vf.trust === 'registered';
    const optional = new Map<string, HTMLInputElement>();
    const creds = v.credentials.map((c) => h('section', { class: 'group consent-doc', 'data-testid': `consent-doc-${c.document}` },
      h('h3', null, t(c.document === 'kk' ? 'consent_doc_kk' : 'consent_doc_ktp')),
      h('ul', { class: 'consent-fields' }, c.fields.map((f) => {
        const label = fieldLabel(f.path, f.name);
        const value = f.image
          ? h('img', { class: 'consent-photo', src: `data:image/jpeg;base64,${f.values[0] ?? ''}`, alt: label })
          : h('span', { class: 'consent-value' }, f.values.map((x) => (x === 'true' ? t('field_yes') : x === 'false' ? t('field_no') : x)).join(', '));
        const mark = h('span', { class: `consent-mark ${f.required ? 'req' : 'opt'}` }, t(f.required ? 'consent_required' : 'consent_optional'));
        if (f.required) {
          return h('li', { 'data-testid': `consent-field-${f.path}` }, h('span', { class: 'consent-label' }, label, ' ', mark), value);
        }
        const boxId = uid('opt');
        const box = h('input', { type: 'checkbox', id: boxId, checked: true, 'data-testid': `consent-toggle-${f.path}` });
        optional.set(f.path, box);
        return h('li', { 'data-testid': `consent-field-${f.path}` },
          h('span', { class: 'consent-label' }, box, h('label', { for: boxId }, label), ' ', mark), value);
      }))));
    const share = button(t('btn_share'), 'btn-share', () => askPin(), 'primary', { disabled: !v.can_share });
    const decline = button(t('btn_decline'), 'btn-decline', () => void step({
      slot, busyOn: el, text: t('declining'), disable: [share, decline],
      run: () => api.declinePresentation(),
      ok: (o) => result(o),
    }), 'secondary');
    const chosen = (): string[] | null => {
      if ([...optional.values()].every((b) => b.checked)) return null;
      const out: string[] = [];
      for (const c of v.credentials) for (const f of c.fields) if (f.required || optional.get(f.path)?.checked) out.push(f.path);
      return out;
    };
    const askPin = () => {
      const choices = chosen();
      pad?.destroy();
      const p: PinPad = createPinPad({
        prompt: t('consent_pin'),
        onComplete: (pin) => {
          p.setDisabled(true);
          void step({
            slot, busyOn: el, text: t('sharing'),
            run: () => api.present(pin, choices),
            ok: (o) => { p.destroy(); result(o); },
            fail: (err) => {
              p.setDisabled(false);
              p.clear();
              if (err.code === 'wrong_pin' || err.code === 'locked_out') {
                p.setMessage(errorCodeText(err.code));
                const lo = err.detail as LockoutView | null;
                if (lo && typeof lo.attempts_left === 'number') p.setAttempts(t('code_attempts', { n: lo.attempts_left }), lo.attempts_left <= 3);
                return true;
              }
              if (err.code === 'vault_wiped') { void ctx.route(); return true; }
              return false;
            },
          });
        },
      });
      pad = p;
      replace(pinHost, p.el, h('div', { class: 'actions' }, button(t('cancel'), 'btn-cancel-share', () => { p.destroy(); replace(pinHost); share.focus(); }, 'secondary')));
      p.el.querySelector<HTMLElement>('.pin-prompt')?.focus();
    };
    const pinHost = h('div', { 'data-testid': 'consent-pin' });
    replace(body,
      h('section', { class: 'group consent-who', 'data-testid': 'consent-who' },
        h('h2', null, t('consent_who')),
        h('p', { class: 'consent-org', 'data-testid': 'consent-org' }, vf.name ?? t('consent_unnamed')),
        h('p', { class: 'small', 'data-testid': 'consent-host' }, t('consent_host', { host: vf.host })),
        h('p', { class: `trust-badge ${registered ? 'ok' : 'bad'}`, 'data-testid': 'consent-trust' }, t(registered ? 'consent_registered' : 'consent_unknown')),
        registered ? null : notice(t(vf.trust === 'unsigned' ? 'consent_unsigned_warn' : 'consent_unknown_warn'), 'warn', 'consent-warning')),
      v.purpose ? h('section', { class: 'group' }, h('h2', null, t('consent_purpose')), h('p', { 'data-testid': 'consent-purpose' }, v.purpose)) : null,
      h('h2', null, t('consent_fields')),
      v.can_share ? null : notice(t('consent_nothing'), 'warn', 'consent-nothing'),
      creds,
      v.response_mode === 'direct_post.jwt' ? h('p', { class: 'small' }, t('consent_encrypted')) : null,
      h('div', { class: 'actions' }, decline, share),
      pinHost);
  }

  function result(o: PresentationOutcome): void {
    pad?.destroy();
    pad = null;
    setTitle(t('result_title'));
    replace(body,
      notice(t(o.declined ? 'result_declined' : 'result_sent', { who: who(o.verifier) }), o.verifier_error ? 'warn' : 'success', 'present-result'),
      o.shared.length
        ? h('section', { class: 'group' }, h('h2', null, t('result_fields')),
          h('ul', { 'data-testid': 'present-shared' }, o.shared.map((p) => h('li', null, fieldLabel(p, p.split(/[.[]/)[0])))))
        : null,
      o.verifier_error ? notice(t('result_verifier_error', { error: o.verifier_error }), 'warn', 'present-verifier-error') : null,
      h('div', { class: 'actions' },
        o.redirect_uri ? h('a', { class: 'btn btn-secondary', href: o.redirect_uri, target: '_blank', rel: 'noopener', 'data-testid': 'present-redirect' }, t('result_redirect')) : null,
        button(t('btn_home'), 'btn-present-home', () => ctx.show('home'))));
  }

  entry();
  const link = ctx.presentationLink;
  if (link) {
    ctx.presentationLink = null;
    open(link);
  }
  return { el, destroy: () => pad?.destroy() };
}
