// Create PIN, unlock PIN pad, Home, KTP-el, KK, History, Settings.
import { h, replace, uid } from '../dom';
import { errorCodeText, errorText, historyText, setLang, t } from '../i18n';
import { api } from '../api';
import { button, errorBanner, frame, keepFocus, notice, openModal, step, textField, type Screen } from '../ui';
import { createPinPad, type PinPad } from '../components/pinpad';
import { renderKtpCard, renderKtpLarge } from '../components/ktpcard';
import { renderKk } from '../components/kkview';
import { localDateTime } from '../format';
import { icon, type IconName } from '../icons';
import type { Ctx } from '../ctx';
import type { LockoutView, UiError } from '../types';

/** Enter a new PIN twice with core's policy check; calls done(pin, confirm). */
function newPinFlow(host: HTMLElement, firstPrompt: string, confirmPrompt: string, done: (pin: string, confirm: string, pad: PinPad) => void): PinPad {
  let first: string | null = null;
  const pad: PinPad = createPinPad({
    prompt: firstPrompt,
    onComplete: (pin) => {
      if (first === null) {
        pad.setDisabled(true);
        api.checkPin(pin).then(() => {
          first = pin;
          pad.setDisabled(false);
          pad.clear();
          pad.setMessage(null);
          setPrompt(confirmPrompt);
        }, (err: UiError) => {
          pad.setDisabled(false);
          pad.clear();
          pad.setMessage(errorText(err));
        });
      } else {
        const f = first;
        first = null;
        if (f !== pin) {
          pad.clear();
          setPrompt(firstPrompt);
          pad.setMessage(errorText({ code: 'pin_mismatch', message: '', detail: null }));
          return;
        }
        done(f, pin, pad);
      }
    },
  });
  const setPrompt = (p: string) => {
    const el = pad.el.querySelector('.pin-prompt');
    if (el) el.textContent = p;
  };
  keepFocus(host, () => replace(host, pad.el), () => pad.el.querySelector<HTMLElement>('.pin-prompt'));
  return pad;
}

export function createPinScreen(ctx: Ctx): Screen {
  const host = h('div');
  const slot = h('div', { class: 'slot' });
  const el = frame('create-pin', t('create_pin_title'), {}, h('p', { class: 'hint' }, t('pin_rules')), host, slot);
  let pad: PinPad | null = null;
  const start = () => {
    pad = newPinFlow(host, t('create_pin_first'), t('create_pin_confirm'), (pin, confirm, p) => {
      p.setDisabled(true);
      void step({
        slot, busyOn: el, text: t('pin_saving'),
        run: () => api.setPin(pin, confirm),
        ok: (s) => { ctx.state = s; void ctx.route(); },
        fail: (err) => { p.destroy(); start(); pad?.setMessage(errorText(err)); return true; },
      });
    });
  };
  start();
  return { el, destroy: () => pad?.destroy() };
}

/** "Sisa percobaan: 5", or from 3 left the warning that the documents will be wiped. */
function attemptsText(left: number): string {
  return left <= 3 ? t('pin_wipe_warning', { n: left }) : t('code_attempts', { n: left });
}

function applyLockout(pad: PinPad, lo: LockoutView | null | undefined, showAttempts: boolean): void {
  if (!lo) return;
  if (showAttempts && lo.failures > 0) pad.setAttempts(attemptsText(lo.attempts_left), lo.attempts_left <= 3);
  let until: number | null = null;
  if (lo.locked_until) {
    const v = Date.parse(lo.locked_until);
    if (!Number.isNaN(v)) until = v;
  }
  if (until === null && lo.retry_after_secs) until = Date.now() + lo.retry_after_secs * 1000;
  if (until !== null && until > Date.now()) pad.lockUntil(until, () => pad.setMessage(null));
}

/** After the wipe there is nothing for a PIN to open: only the way back. */
function wipedScreen(ctx: Ctx): Screen {
  const pending = ctx.state?.pin_reset_pending ?? false;
  const el = frame('pin', t('pin_title'), {},
    notice(errorText({ code: 'vault_wiped', message: '', detail: null }), 'warn'),
    pending ? notice(t('reset_pending_note'), 'info') : null,
    h('div', { class: 'actions' },
      pending ? button(t('btn_reset_enter_code'), 'btn-reset-enter-code', () => ctx.show('reset-code')) : null,
      button(t('btn_redownload'), 'btn-redownload', () => ctx.show('forgot-pin'), pending ? 'secondary' : 'primary')));
  return { el };
}

export function pinScreen(ctx: Ctx): Screen {
  if (ctx.state?.documents_wiped) return wipedScreen(ctx);
  const slot = h('div', { class: 'slot' });
  const pad = createPinPad({
    prompt: t('pin_intro'),
    onComplete: (pin) => {
      pad.setDisabled(true);
      void step({
        slot, busyOn: el, text: t('unlocking'),
        run: () => api.unlock(pin),
        ok: (s) => { ctx.state = s; pad.destroy(); void ctx.route(); },
        fail: (err) => {
          pad.setDisabled(false);
          pad.clear();
          const lo = err.detail as LockoutView | null;
          if (err.code === 'wrong_pin' || err.code === 'locked_out') {
            pad.setMessage(errorCodeText(err.code));
            if (lo && typeof lo.attempts_left === 'number') pad.setAttempts(attemptsText(lo.attempts_left), lo.attempts_left <= 3);
            applyLockout(pad, lo, false);
            return true;
          }
          if (err.code === 'vault_wiped') {
            // Show the wiped notice and "Unduh ulang dokumen".
            pad.destroy();
            void ctx.route();
            return true;
          }
          return false;
        },
      });
    },
  });
  const el = frame('pin', t('pin_title'), {},
    ctx.state?.pin_reset_pending
      ? h('div', { class: 'actions' }, notice(t('reset_pending_note'), 'info'),
        button(t('btn_reset_enter_code'), 'btn-reset-enter-code', () => ctx.show('reset-code'), 'secondary'))
      : null,
    pad.el, slot,
    h('p', { class: 'hint pin-rule' }, t('pin_wipe_rule')),
    h('div', { class: 'actions' }, button(t('btn_forgot_pin'), 'btn-forgot-pin', () => ctx.show('forgot-pin'), 'link')));
  applyLockout(pad, ctx.state?.lockout, true);
  return { el, destroy: () => pad.destroy() };
}

export function homeScreen(ctx: Ctx): Screen {
  const body = h('div', { class: 'home-body' });
  const slot = h('div', { class: 'slot' });
  const lockBtn = h('button', { type: 'button', class: 'btn-lock', 'data-testid': 'btn-lock', onclick: () => void step({
    slot, text: t('busy'), run: () => api.lock(), ok: (s) => { ctx.state = s; void ctx.route(); },
  }) }, icon('lock'), ' ', t('btn_lock'));
  const el = frame('home', t('home_title'), { actions: lockBtn }, slot, body);
  const tile = (testid: string, ic: IconName, title: string, sub: string, go: () => void) =>
    h('button', { type: 'button', class: 'tile', 'data-testid': testid, onclick: go },
      icon(ic, 'tile-icon'),
      h('span', { class: 'tile-text' }, h('span', { class: 'tile-title' }, title), h('span', { class: 'tile-sub' }, sub)));
  const load = () => void step({
    slot: body, busyOn: el, text: t('loading'),
    run: () => api.home(),
    ok: (v) => {
      replace(body,
        h('section', { class: 'profile' },
          h('img', { class: 'profile-photo', 'data-testid': 'home-photo', src: `data:image/jpeg;base64,${v.foto}`, alt: t('photo_alt', { name: v.nama }) }),
          h('div', null,
            h('p', { class: 'small' }, t('greeting')),
            h('p', { class: 'profile-name', 'data-testid': 'home-name' }, v.nama),
            h('p', { class: 'profile-nik' }, 'NIK ', h('span', { 'data-testid': 'home-nik' }, v.nik_masked)))),
        ctx.state?.documents_wiped ? notice(t('docs_wiped_note'), 'warn') : null,
        h('nav', { class: 'tiles', 'aria-label': t('home_title') },
          tile('tile-dokumen', 'card', t('tile_dokumen'), t('tile_dokumen_sub'), () => ctx.show('ktp')),
          tile('tile-keluarga', 'family', t('tile_keluarga'), t('tile_keluarga_sub'), () => ctx.show('kk')),
          tile('tile-bagikan', 'shield', t('tile_bagikan'), t('tile_bagikan_sub'), () => ctx.show('present')),
          tile('tile-periksa', 'card', t('tile_periksa'), t('tile_periksa_sub'), () => ctx.show('inspect')),
          tile('tile-histori', 'history', t('tile_histori'), t('tile_histori_sub'), () => ctx.show('history')),
          tile('tile-pengaturan', 'settings', t('tile_pengaturan'), t('tile_pengaturan_sub'), () => ctx.show('settings'))));
    },
    fail: (err) => { if (err.code === 'vault_locked') { void ctx.route(); return true; } return false; },
  });
  load();
  return { el };
}

/** The history kinds after which the documents on the device are new. */
const DOCS_STORED = new Set(['pin_set', 'documents_refreshed']);

/** The time the documents were last stored (newest matching history entry), or null. */
export function docsUpdatedAt(history: Array<{ at: string; kind: string }>): string | null {
  return history.find((e) => DOCS_STORED.has(e.kind))?.at ?? null;
}

function docScreen(ctx: Ctx, name: 'ktp' | 'kk', title: string, fill: (body: HTMLElement, el: HTMLElement) => void): Screen {
  const body = h('div');
  // The documents are read from the device (offline too); when they were last fetched.
  const updated = h('p', { class: 'small docs-updated', 'data-testid': 'docs-updated', hidden: true });
  const el = frame(name, title, { back: () => ctx.show('home') }, updated, body);
  api.history().then((hs) => {
    const at = docsUpdatedAt(hs);
    if (at) { updated.textContent = t('docs_updated', { at: localDateTime(at) }); updated.hidden = false; }
  }, () => { /* no line */ });
  fill(body, el);
  return { el };
}

export function ktpScreen(ctx: Ctx): Screen {
  return docScreen(ctx, 'ktp', t('ktp_title'), (body, el) => {
    void step({
      slot: body, busyOn: el, text: t('loading'),
      run: () => api.ktp(),
      ok: (v) => {
        const wrap = h('div', { class: 'ktp-wrap' }, renderKtpCard(v));
        const large = renderKtpLarge(v);
        const home = h('div', { class: 'ktp-home' }, wrap);
        const zoom = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'btn-ktp-zoom' }, t('ktp_zoom'));
        const largeBtn = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'btn-ktp-large', 'aria-pressed': 'false' }, t('ktp_large'));
        // Large text: label/value rows in rem instead of the card (whose text follows the card's width).
        const setLarge = (on: boolean) => {
          largeBtn.setAttribute('aria-pressed', String(on));
          zoom.hidden = on;
          replace(home, on ? large : wrap);
        };
        largeBtn.addEventListener('click', () => setLarge(largeBtn.getAttribute('aria-pressed') !== 'true'));
        // The zoom is a modal layer: Tab stays on its close button, Escape closes, focus returns.
        zoom.addEventListener('click', () => {
          const unzoom = h('button', { type: 'button', class: 'btn btn-secondary zoom-close', 'data-testid': 'btn-ktp-unzoom' }, t('ktp_unzoom'));
          const backdrop = h('div', { class: 'ktp-backdrop' });
          const layer = h('div', { class: 'ktp-zoom-layer', role: 'dialog', 'aria-modal': 'true', 'aria-label': t('ktp_zoom_label'), 'data-testid': 'ktp-zoom' },
            backdrop, wrap, unzoom);
          wrap.classList.add('zoomed');
          el.append(layer);
          const close = openModal(layer, zoom, () => {
            wrap.classList.remove('zoomed');
            if (largeBtn.getAttribute('aria-pressed') !== 'true') replace(home, wrap);
          }, unzoom);
          unzoom.addEventListener('click', close);
          backdrop.addEventListener('click', close);
        });
        const issuer = ctx.state?.dev_build
          ? h('details', { class: 'issuer-details small' }, h('summary', null, t('issuer_details')), h('p', null, t('issuer_address', { url: v.issuer })))
          : null;
        replace(body,
          v.verified ? null : notice(t('ktp_unverified'), 'warn', 'ktp-unverified'),
          home,
          h('p', { class: 'ktp-note' }, t('ktp_note')),
          h('p', { class: 'small', 'data-testid': 'ktp-issuer' }, t('issued_by', { issuer: t('issuer_dukcapil') })),
          issuer,
          h('div', { class: 'actions' }, largeBtn, zoom, button(t('open_kk'), 'btn-open-kk', () => ctx.show('kk'), 'secondary')));
        // A large system text size starts in the large-text view.
        const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
        if (rem >= 24) setLarge(true);
      },
      fail: (err) => { if (err.code === 'vault_locked') { void ctx.route(); return true; } return false; },
    });
  });
}

export function kkScreen(ctx: Ctx): Screen {
  return docScreen(ctx, 'kk', t('kk_title'), (body, el) => {
    void step({
      slot: body, busyOn: el, text: t('loading'),
      run: () => api.kk(),
      ok: (v) => replace(body,
        v.verified ? h('p', { class: 'badge-ok' }, icon('check'), ' ', t('ktp_verified')) : notice(t('ktp_unverified'), 'warn'),
        renderKk(v),
        h('p', { class: 'ktp-note' }, t('ktp_note'))),
      fail: (err) => { if (err.code === 'vault_locked') { void ctx.route(); return true; } return false; },
    });
  });
}

export function historyScreen(ctx: Ctx): Screen {
  const body = h('div');
  const el = frame('history', t('history_title'), { back: () => ctx.show('home') }, body);
  void step({
    slot: body, busyOn: el, text: t('loading'),
    run: () => api.history(),
    ok: (list) => replace(body, list.length === 0
      ? h('p', { 'data-testid': 'history-list' }, t('history_empty'))
      : h('ol', { class: 'history', 'data-testid': 'history-list' }, list.map((e) =>
        h('li', { class: `hist hist-${e.kind}` },
          h('span', { class: 'hist-what' }, historyText(e.kind)),
          e.detail ? h('span', { class: 'hist-detail' }, e.detail) : null,
          h('time', { datetime: e.at, class: 'hist-when' }, localDateTime(e.at)))))),
  });
  return { el };
}

export function settingsScreen(ctx: Ctx): Screen {
  const body = h('div');
  const slot = h('div', { class: 'slot' });
  const el = frame('settings', t('settings_title'), { back: () => ctx.show('home') }, slot, body);
  let pad: PinPad | null = null;

  /** The settings list; `refocus`: back from Ubah PIN, focus its button again. */
  function main(refocus = false): void {
    pad?.destroy();
    pad = null;
    const s = ctx.state?.settings ?? { language: 'id', auto_lock_secs: 120, backend_url: '', verifier_url: '' };
    const langId = uid('lang');
    const lockId = uid('al');
    const urlId = uid('url');
    const langSel = h('select', { id: langId, 'data-testid': 'select-language' },
      h('option', { value: 'id', selected: s.language !== 'en' }, 'Bahasa Indonesia'),
      h('option', { value: 'en', selected: s.language === 'en' }, 'English'));
    const lockSel = h('select', { id: lockId, 'data-testid': 'select-autolock' },
      [60, 120, 300, 600].map((secs) => h('option', { value: String(secs), selected: s.auto_lock_secs === secs }, t('minutes', { n: secs / 60 }))));
    const save = (patch: Partial<typeof s>, after?: () => void) => void step({
      slot, busyOn: el, text: t('busy'),
      run: () => api.setSettings({ ...s, ...patch }),
      ok: (ns) => {
        if (ctx.state) ctx.state.settings = ns;
        setLang(ns.language);
        after?.();
        slot.append(notice(t('saved'), 'success'));
      },
    });
    langSel.addEventListener('change', () => save({ language: langSel.value }, () => ctx.rerender()));
    lockSel.addEventListener('change', () => save({ auto_lock_secs: Number(lockSel.value) }));
    let urlRow: HTMLElement | null = null;
    if (ctx.state?.dev_build) {
      const url = textField({ id: urlId, inputmode: 'url', 'data-testid': 'input-backend-url', value: s.backend_url, autocomplete: 'off' });
      urlRow = h('div', { class: 'field' }, h('label', { for: urlId }, t('backend_url')), url,
        button(t('btn_save'), 'btn-save-url', () => save({ backend_url: url.value.trim() }), 'secondary'));
    }
    // Periksa KTP: the verifier service (https; loopback http in dev builds).
    const verifierId = uid('vurl');
    const verifier = textField({ id: verifierId, inputmode: 'url', 'data-testid': 'input-verifier-url', value: s.verifier_url, autocomplete: 'off', placeholder: 'https://' });
    const verifierRow = h('div', { class: 'field' }, h('label', { for: verifierId }, t('verifier_url')), verifier,
      h('p', { class: 'small' }, t('verifier_url_hint')),
      button(t('btn_save'), 'btn-save-verifier-url', () => save({ verifier_url: verifier.value.trim() }), 'secondary'));
    const refresh = button(t('refresh_docs'), 'btn-refresh-docs', () => void step({
      slot, busyOn: el, text: t('refreshing'), disable: [refresh],
      run: () => api.refreshDocuments(),
      ok: () => {
        if (ctx.state) ctx.state.documents_wiped = false;
        slot.append(notice(t('refreshed'), 'success'));
      },
    }), 'secondary');
    const release: HTMLButtonElement = button(t('release_device'), 'btn-release-device', () => confirmRelease(release), 'danger');
    replace(body,
      h('section', { class: 'group' },
        button(t('change_pin'), 'btn-change-pin', changePin, 'secondary'),
        h('div', { class: 'field' }, h('label', { for: langId }, t('language')), langSel),
        h('div', { class: 'field' }, h('label', { for: lockId }, t('autolock')), lockSel),
        urlRow,
        verifierRow,
        refresh),
      h('section', { class: 'group' },
        h('h2', null, t('about')),
        h('p', null, t('about_version', { v: __APP_VERSION__ })),
        h('p', null, t('about_open_source')),
        h('p', null, t('about_stored')),
        ctx.state?.key_store === 'file' ? h('p', { 'data-testid': 'key-store-file' }, t('key_store_file')) : null),
      h('section', { class: 'group danger-zone' },
        release));
    if (refocus) body.querySelector<HTMLElement>('[data-testid="btn-change-pin"]')?.focus();
  }

  function changePin(): void {
    replace(slot);
    const host = h('div');
    replace(body, host, h('div', { class: 'actions' }, button(t('cancel'), 'btn-cancel', () => main(true), 'secondary')));
    // The old PIN is checked first (verify_pin counts as an unlock attempt), then the new one twice.
    const askNew = (oldPin: string) => {
      pad?.destroy();
      pad = newPinFlow(host, t('change_pin_new'), t('change_pin_confirm'), (newPin, _c, p) => {
        p.setDisabled(true);
        void step({
          slot, busyOn: el, text: t('pin_saving'),
          run: () => api.changePin(oldPin, newPin),
          ok: () => { main(true); slot.append(notice(t('change_pin_done'), 'success')); },
          fail: (err) => { main(true); replace(slot, errorBanner(err)); return true; },
        });
      });
    };
    const oldPad: PinPad = createPinPad({
      prompt: t('change_pin_old'),
      onComplete: (pin) => {
        oldPad.setDisabled(true);
        void step({
          slot, busyOn: el, text: t('change_pin_checking'),
          run: () => api.verifyPin(pin),
          ok: () => askNew(pin),
          fail: (err) => {
            // An older shell without verify_pin: change_pin still checks the old PIN at the end.
            if (err.code === 'internal') { askNew(pin); return true; }
            oldPad.setDisabled(false);
            oldPad.clear();
            if (err.code === 'wrong_pin' || err.code === 'locked_out') {
              const lo = err.detail as LockoutView | null;
              oldPad.setMessage(errorCodeText(err.code));
              if (lo && typeof lo.attempts_left === 'number') oldPad.setAttempts(attemptsText(lo.attempts_left), lo.attempts_left <= 3);
              applyLockout(oldPad, lo, false);
              return true;
            }
            if (err.code === 'vault_wiped' || err.code === 'vault_locked') { void ctx.route(); return true; }
            return false;
          },
        });
      },
    });
    pad = oldPad;
    replace(host, oldPad.el);
    // The button is gone: the prompt takes the focus (digits are typed anywhere on the screen).
    oldPad.el.querySelector<HTMLElement>('.pin-prompt')?.focus();
  }

  function confirmRelease(opener: HTMLElement): void {
    const titleId = uid('dlg');
    const bodyId = uid('dlgb');
    let close = () => { /* set below */ };
    const yes = button(t('release_confirm_yes'), 'btn-confirm-release', () => {
      close();
      void step({
        slot, busyOn: el, text: t('releasing'),
        run: () => api.releaseDevice(),
        ok: (s) => { ctx.state = s; void ctx.route(); },
      });
    }, 'danger');
    const no = button(t('cancel'), 'btn-cancel-release', () => close(), 'secondary');
    const overlay = h('div', { class: 'overlay' },
      h('div', { class: 'dialog', role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': titleId, 'aria-describedby': bodyId },
        h('h2', { id: titleId }, t('release_confirm_title')),
        h('p', { id: bodyId }, t('release_confirm_body')),
        h('div', { class: 'actions' }, no, yes)));
    el.append(overlay);
    close = openModal(overlay, opener, undefined, no);
  }

  main();
  return { el, destroy: () => pad?.destroy() };
}
