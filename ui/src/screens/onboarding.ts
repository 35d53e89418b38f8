// Welcome, Register, Selfie, Submit/Visit.
import { h, replace, uid } from '../dom';
import { errorText, lang, setLang, t } from '../i18n';
import { api, toUiError } from '../api';
import { button, errorBanner, fileToBase64, frame, keepFocus, notice, step, textField, type Screen } from '../ui';
import type { Ctx } from '../ctx';
import { icon } from '../icons';
import { grabFrame } from '../camera';
import type { NikInfo, SelfieVerdict, SelfieView, UiError } from '../types';

export function welcomeScreen(ctx: Ctx): Screen {
  const slot = h('div', { class: 'slot' });
  const toggleLang = () => {
    const next = lang() === 'id' ? 'en' : 'id';
    setLang(next);
    const s = ctx.state?.settings;
    if (s) {
      s.language = next;
      api.setSettings({ ...s }).catch(() => { /* the choice still applies for this session */ });
    }
    ctx.rerender();
  };
  const aktivasi = () => {
    const e = ctx.state?.enrollment;
    if (!e) {
      replace(slot, notice(t('no_enrollment'), 'warn'));
      return;
    }
    ctx.show(e.status === 'submitted' ? 'submitted' : e.status === 'approved' ? 'code' : 'status');
  };
  const el = frame('welcome', t('app_short'), {
    actions: h('button', { type: 'button', class: 'btn-lang', 'data-testid': 'btn-lang', 'aria-label': t('lang_switch_label'), onclick: toggleLang }, t('lang_switch')),
  },
  h('div', { class: 'hero', 'aria-hidden': 'true' }, h('div', { class: 'hero-card' }, h('span', null, 'KTP-el'), h('span', { class: 'hero-lines' }))),
  h('h2', { class: 'lead' }, t('welcome_title')),
  h('p', null, t('welcome_body')),
  h('ol', { class: 'steps' },
    h('li', null, t('welcome_step1')), h('li', null, t('welcome_step2')),
    h('li', null, t('welcome_step3')), h('li', null, t('welcome_step4'))),
  slot,
  h('div', { class: 'actions' },
    button(t('btn_daftar'), 'btn-daftar', () => ctx.show('register')),
    button(t('btn_aktivasi'), 'btn-aktivasi', aktivasi, 'secondary')));
  return { el };
}

function placeText(info: NikInfo): { text: string; missing: string[] } {
  const missing: string[] = [];
  const part = (prefix: string, r: { code: string; name: string | null }) => {
    if (!r.name) {
      missing.push(r.code);
      return null;
    }
    return prefix ? `${prefix} ${r.name}` : r.name;
  };
  const parts = [part('Kec.', info.district), part('', info.regency), part('', info.province)].filter(Boolean);
  return { text: parts.join(', '), missing };
}

function field(label: string, hint: string, input: HTMLTextAreaElement, msg: HTMLElement): HTMLElement {
  const id = uid('f');
  const hintId = `${id}-hint`;
  input.id = id;
  input.setAttribute('aria-describedby', `${hintId} ${msg.id}`);
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('p', { class: 'hint', id: hintId }, hint),
    input,
    msg);
}

export function registerScreen(ctx: Ctx): Screen {
  const f = ctx.form;
  // Text fields that wrap (not <input>): at 200 % text a NIK or an email no longer fits one line.
  const mk = (testid: string, value: string, extra: Record<string, unknown>) =>
    textField({ 'data-testid': testid, value, autocomplete: 'off', ...extra });
  const nik = mk('input-nik', f.nik, { inputmode: 'numeric', maxlength: 24 });
  const email = mk('input-email', f.email, { inputmode: 'email', autocomplete: 'email' });
  const phone = mk('input-phone', f.phone, { inputmode: 'tel', autocomplete: 'tel' });
  const nikMsg = h('div', { class: 'field-msg', id: uid('m'), 'data-testid': 'nik-info', 'aria-live': 'polite' });
  const emailMsg = h('div', { class: 'field-msg', id: uid('m'), 'aria-live': 'polite' });
  const phoneMsg = h('div', { class: 'field-msg', id: uid('m'), 'aria-live': 'polite' });
  const consent = h('input', { type: 'checkbox', 'data-testid': 'check-consent', id: uid('c'), checked: f.consent });
  const whyId = uid('why');
  const next = button(t('next'), 'btn-register-next', () => goNext(), 'primary', { 'aria-describedby': whyId });
  const why = h('p', { class: 'next-why', id: whyId, 'data-testid': 'next-why', 'aria-live': 'polite' });
  const slot = h('div', { class: 'slot' });

  let nikOk = false;
  let emailOk = false;
  let phoneOk = false;
  let seq = 0;

  const setMsg = (el: HTMLElement, text: string, kind: 'ok' | 'error' | 'warn' | 'info') => {
    el.className = `field-msg ${kind}`;
    el.textContent = text;
  };
  // What is typed is kept by the wallet (sealed) until submit, so a restart loses nothing.
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  const saveDraft = () => {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => { api.saveDraft({ ...f }).catch(() => { /* kept in memory still */ }); }, 400);
  };
  const update = () => {
    saveDraft();
    const missing = [
      nikOk ? null : t('why_nik'), emailOk ? null : t('why_email'),
      phoneOk ? null : t('why_phone'), consent.checked ? null : t('why_consent'),
    ].filter((x): x is string => x !== null);
    next.disabled = missing.length > 0;
    why.hidden = missing.length === 0;
    why.textContent = missing.length ? t('next_why', { items: missing.join(', ') }) : '';
  };

  async function checkNik(): Promise<void> {
    const digits = nik.value.replace(/\D/g, '');
    f.nik = digits;
    nikOk = false;
    ctx.nikInfo = null;
    nik.removeAttribute('aria-invalid');
    if (digits.length < 16) {
      setMsg(nikMsg, digits.length ? t('nik_digits', { n: digits.length }) : '', 'info');
      update();
      return;
    }
    const my = ++seq;
    setMsg(nikMsg, t('checking'), 'info');
    try {
      const info = await api.checkNik(digits);
      if (my !== seq) return;
      ctx.nikInfo = info;
      nikOk = true;
      const { text, missing } = placeText(info);
      replace(nikMsg);
      nikMsg.className = 'field-msg ok';
      nikMsg.append(h('span', null, t('nik_registered_at', { place: text })));
      if (missing.length || info.warnings.length) {
        nikMsg.append(h('span', { class: 'warn-inline' }, t('nik_unknown_region', { codes: missing.join(', ') || info.warnings.join(', ') })));
      }
    } catch (e) {
      if (my !== seq) return;
      nik.setAttribute('aria-invalid', 'true');
      setMsg(nikMsg, errorText(toUiError(e)), 'error');
    }
    update();
  }

  async function checkOther(kind: 'email' | 'phone'): Promise<void> {
    const input = kind === 'email' ? email : phone;
    const msg = kind === 'email' ? emailMsg : phoneMsg;
    const v = input.value.trim();
    if (kind === 'email') { f.email = v; emailOk = false; } else { f.phone = v; phoneOk = false; }
    input.removeAttribute('aria-invalid');
    if (!v) { setMsg(msg, '', 'info'); update(); return; }
    try {
      const norm = kind === 'email' ? await api.checkEmail(v) : await api.checkPhone(v);
      if (input.value.trim() !== v) return;
      if (kind === 'email') emailOk = true; else phoneOk = true;
      setMsg(msg, `✓ ${norm}`, 'ok');
    } catch (e) {
      if (input.value.trim() !== v) return;
      input.setAttribute('aria-invalid', 'true');
      setMsg(msg, errorText(toUiError(e)), 'error');
    }
    update();
  }

  let emailTimer: ReturnType<typeof setTimeout> | undefined;
  let phoneTimer: ReturnType<typeof setTimeout> | undefined;
  nik.addEventListener('input', () => { void checkNik(); });
  email.addEventListener('input', () => { clearTimeout(emailTimer); emailOk = false; update(); emailTimer = setTimeout(() => void checkOther('email'), 400); });
  email.addEventListener('blur', () => { clearTimeout(emailTimer); void checkOther('email'); });
  phone.addEventListener('input', () => { clearTimeout(phoneTimer); phoneOk = false; update(); phoneTimer = setTimeout(() => void checkOther('phone'), 400); });
  phone.addEventListener('blur', () => { clearTimeout(phoneTimer); void checkOther('phone'); });
  consent.addEventListener('change', () => { f.consent = consent.checked; update(); });

  function goNext(): void {
    if (!(nikOk && emailOk && phoneOk)) return;
    if (!consent.checked) {
      replace(slot, errorBanner({ code: 'consent_required', message: '', detail: null }));
      return;
    }
    ctx.show('selfie');
  }

  const el = frame('register', t('register_title'), { back: () => ctx.show('welcome'), step: 1 },
    h('p', null, t('register_intro')),
    field(t('nik_label'), t('nik_hint'), nik, nikMsg),
    field(t('email_label'), t('email_hint'), email, emailMsg),
    field(t('phone_label'), t('phone_hint'), phone, phoneMsg),
    h('section', { class: 'terms', 'aria-labelledby': 'terms-h' },
      h('h2', { id: 'terms-h' }, t('terms_title')),
      h('p', null, t('terms_text'))),
    h('div', { class: 'check' }, consent, h('label', { for: consent.id }, t('consent_label'))),
    slot,
    why,
    h('div', { class: 'actions' }, next));
  update();
  if (f.nik) void checkNik();
  if (f.email) void checkOther('email');
  if (f.phone) void checkOther('phone');
  return { el };
}

/** Words a selfie verdict; kinds this UI does not know yet (a newer core) get a general text. */
export function verdictText(v: SelfieVerdict | { kind: string }): { title: string; help: string } {
  switch (v.kind as string) {
    case 'too_dark': return { title: t('verdict_too_dark'), help: t('verdict_too_dark_help') };
    case 'too_bright': return { title: t('verdict_too_bright'), help: t('verdict_too_bright_help') };
    case 'blurry': return { title: t('verdict_blurry'), help: t('verdict_blurry_help') };
    case 'no_face': return { title: t('verdict_face'), help: t('verdict_no_face_help') };
    case 'several_faces': return { title: t('verdict_face'), help: t('verdict_several_faces_help') };
    case 'face_too_small': return { title: t('verdict_face'), help: t('verdict_face_too_small_help') };
    case 'face_off_centre': return { title: t('verdict_face'), help: t('verdict_face_off_centre_help') };
    default: return { title: t('verdict_other'), help: t('verdict_other_help') };
  }
}

/** Where the selfie screen sits: the registration's step 2, or the Lupa PIN's photo. */
export type SelfieFlow = { name: string; intro: string; back: () => void; accept: () => void; step?: number };

export function selfieScreen(ctx: Ctx, flow: SelfieFlow = {
  name: 'selfie', intro: t('selfie_intro'), back: () => ctx.show('register'), accept: () => ctx.show('submitted'), step: 2,
}): Screen {
  const slot = h('div', { class: 'slot' });
  const body = h('div', { class: 'selfie-body' });
  let stream: MediaStream | null = null;

  const fileInput = h('input', { type: 'file', accept: 'image/jpeg,image/png', 'data-testid': 'input-selfie-file', class: 'file-input', id: uid('file') });
  const fileLabel = h('label', { for: fileInput.id, class: 'btn btn-secondary file-label' }, t('btn_choose_photo'));
  fileInput.addEventListener('change', async () => {
    const file = fileInput.files?.[0];
    if (!file) return;
    const b64 = await fileToBase64(file);
    fileInput.value = '';
    process(b64, 'file');
  });

  function stopCamera(): void {
    stream?.getTracks().forEach((tr) => tr.stop());
    stream = null;
  }

  /** Where the photo being shown came from (the preview's `data-source`). */
  let source: 'camera' | 'file' | '' = '';

  function process(b64: string, from: 'camera' | 'file'): void {
    stopCamera();
    source = from;
    void step({
      slot, busyOn: el, text: t('selfie_processing'),
      run: () => api.processSelfie(b64),
      ok: (v) => { ctx.selfie = v; showPreview(); },
      fail: (err) => { replace(slot, errorBanner(err)); showPicker(); return true; },
    });
  }

  function showPreview(): void {
    const v = ctx.selfie;
    if (!v) { showPicker(); return; }
    const verdicts = v.verdicts.map(verdictText);
    keepFocus(body, () => buildPreview(v, verdicts), () => body.querySelector<HTMLElement>('[data-testid="selfie-verdict"]'));
  }

  function buildPreview(v: SelfieView, verdicts: Array<{ title: string; help: string }>): void {
    replace(body,
      h('img', { class: 'selfie-preview', 'data-testid': 'selfie-preview', 'data-source': source, src: `data:image/jpeg;base64,${v.preview_jpeg}`, alt: t('selfie_title') }),
      h('div', { class: `selfie-verdict ${v.acceptable ? 'ok' : 'bad'}`, 'data-testid': 'selfie-verdict', role: 'status', tabindex: '-1' },
        v.acceptable
          ? h('p', null, '✓ ', t('selfie_ok'))
          : [h('ul', null, verdicts.map((x) => h('li', null, h('strong', null, x.title), ' — ', x.help))),
            h('p', null, t('selfie_not_acceptable'))]),
      h('div', { class: 'actions' },
        v.acceptable
          ? [button(t('btn_accept'), 'btn-selfie-accept', () => flow.accept()),
            button(t('btn_retake'), 'btn-selfie-retake', () => { ctx.selfie = null; showPicker(); }, 'secondary')]
          : [button(t('btn_retake'), 'btn-selfie-retake', () => { ctx.selfie = null; showPicker(); }),
            button(t('btn_accept'), 'btn-selfie-accept', () => flow.accept(), 'secondary', { disabled: true })]));
  }

  function showPicker(): void {
    const camSlot = h('div', { class: 'camera' });
    keepFocus(body, () => replace(body, camSlot, h('div', { class: 'actions' }, h('div', { class: 'file-pick' }, fileInput, fileLabel))), () => fileInput);
    void startCamera(camSlot);
  }

  async function startCamera(camSlot: HTMLElement): Promise<void> {
    const md = typeof navigator !== 'undefined' ? navigator.mediaDevices : undefined;
    if (!md || typeof md.getUserMedia !== 'function') {
      replace(camSlot, notice(t('camera_unavailable'), 'info'));
      return;
    }
    try {
      stream = await md.getUserMedia({ video: { facingMode: 'user' }, audio: false });
    } catch (e) {
      const denied = e instanceof Error && (e.name === 'NotAllowedError' || e.name === 'SecurityError');
      replace(camSlot, notice(t(denied ? 'camera_denied' : 'camera_unavailable'), 'info'));
      return;
    }
    if (!el.isConnected) { stopCamera(); return; }
    const video = h('video', { 'data-testid': 'selfie-video', autoplay: true, playsinline: true, muted: true, class: 'selfie-video', 'aria-label': t('selfie_title') });
    video.muted = true;
    video.srcObject = stream;
    void video.play().catch(() => { /* autoplay (muted) normally starts it */ });
    const camMsg = h('div', { class: 'slot' });
    let grabbing = false;
    const capture = button(t('btn_capture'), 'btn-capture', async () => {
      if (grabbing) return;
      grabbing = true;
      capture.disabled = true;
      replace(camMsg);
      const data = await grabFrame(video);
      grabbing = false;
      capture.disabled = false;
      if (!data) {
        replace(camMsg, notice(t('camera_no_picture'), 'warn', 'camera-no-picture'));
        return;
      }
      process(data.slice(data.indexOf(',') + 1), 'camera');
    });
    replace(camSlot, video, camMsg, h('div', { class: 'actions' }, capture));
  }

  const el = frame(flow.name, t('selfie_title'), { back: () => { stopCamera(); flow.back(); }, step: flow.step },
    h('p', null, flow.intro),
    slot,
    body);
  if (ctx.selfie) showPreview(); else showPicker();
  return { el, destroy: stopCamera };
}

export function submittedScreen(ctx: Ctx): Screen {
  const slot = h('div', { class: 'slot' });
  const content = h('div');
  const el = frame('submitted', t('submit_title'), { step: 3 });

  function showVisit(): void {
    const h1 = el.querySelector('h1');
    if (h1) h1.textContent = t('visit_title');
    // The submit button is gone: the new title takes the focus.
    queueMicrotask(() => { if (h1 && el.isConnected) h1.focus({ preventScroll: true }); });
    el.querySelector('[data-testid="btn-back"]')?.remove();
    replace(content,
      notice(t('visit_intro'), 'success'),
      h('ol', { class: 'steps' },
        h('li', null, t('visit_step1')), h('li', null, t('visit_step2')),
        h('li', null, t('visit_step3')), h('li', null, t('visit_step4'))),
      h('div', { class: 'actions' }, button(t('btn_scan_qr'), 'btn-scan-qr', () => ctx.show('scan'))));
  }

  function showReview(): void {
    const f = ctx.form;
    const submit = button(t('btn_submit'), 'btn-submit', () => {
      void step({
        slot, busyOn: el, text: t('submitting'), progressTestId: 'submit-progress', disable: [submit],
        // The request's size (the selfie in base64 and the form) until the shell reports
        // the bytes handed to the network (then a determinate bar).
        detail: ctx.selfie ? t('upload_size', { kb: Math.ceil((ctx.selfie.bytes * 4 / 3 + 1024) / 1024) }) : undefined,
        run: (upload) => api.submitEnrollment({ nik: f.nik, email: f.email, phone: f.phone, consent: f.consent }, upload),
        ok: async (v) => {
          if (ctx.state) ctx.state.enrollment = v;
          ctx.justSubmitted = true;
          showVisit();
        },
        fail: (err: UiError) => {
          if (err.code === 'invalid_state') { void ctx.route(); return true; }
          return false;
        },
      });
    });
    const back = h('button', { type: 'button', class: 'btn-icon', 'data-testid': 'btn-back', 'aria-label': t('back'), onclick: () => ctx.show('selfie') }, icon('back'));
    el.querySelector('.bar')?.prepend(back);
    replace(content,
      h('p', null, t('submit_intro')),
      h('div', { class: 'review' },
        ctx.selfie ? h('img', { src: `data:image/jpeg;base64,${ctx.selfie.preview_jpeg}`, alt: t('selfie_title'), class: 'review-photo' }) : null,
        h('dl', null,
          h('dt', null, 'NIK'), h('dd', null, f.nik),
          h('dt', null, t('email_label')), h('dd', null, f.email),
          h('dt', null, t('phone_label')), h('dd', null, f.phone))),
      h('div', { class: 'actions' }, submit));
  }

  el.querySelector('.content')?.append(content, slot);
  const st = ctx.state?.enrollment?.status;
  if (st === 'submitted' && (ctx.justSubmitted || ctx.state?.stage === 'enrolling')) showVisit(); else showReview();
  return { el };
}

