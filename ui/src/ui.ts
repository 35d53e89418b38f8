// Shared screen pieces: the screen frame, progress, error banner with retry.
import { h, replace, type Child } from './dom';
import { errorText, t } from './i18n';
import { toUiError } from './api';
import type { UiError, UploadProgress } from './types';
import { icon } from './icons';

export type Screen = { el: HTMLElement; destroy?: () => void };

export function frame(name: string, title: string, opts: { back?: () => void; actions?: Child; step?: number } = {}, ...children: Child[]): HTMLElement {
  return h('main', { class: `screen screen-${name}`, 'data-testid': `screen-${name}` },
    h('header', { class: 'bar' },
      opts.back
        ? h('button', { type: 'button', class: 'btn-icon', 'data-testid': 'btn-back', 'aria-label': t('back'), onclick: opts.back },
          icon('back'))
        : null,
      h('h1', { tabindex: '-1' }, title),
      opts.actions ?? null),
    h('div', { class: 'content' },
      opts.step ? h('p', { class: 'step-of', 'data-testid': 'step-of' }, t('step_of', { n: opts.step, total: 4 })) : null,
      children));
}

/**
 * Runs `rebuild` (which replaces part of `root`) without losing keyboard focus: the element with
 * the same test id gets focus again, else `fallback` (e.g. the new content's first heading).
 */
export function keepFocus(root: HTMLElement, rebuild: () => void, fallback?: () => HTMLElement | null): void {
  const active = document.activeElement as HTMLElement | null;
  const inside = active !== null && active !== document.body && root.contains(active);
  const testid = inside ? active?.dataset.testid : undefined;
  rebuild();
  if (!inside || (active && active.isConnected)) return;
  const again = testid ? root.querySelector<HTMLElement>(`[data-testid="${testid}"]`) : null;
  const target = again && !(again as HTMLButtonElement).disabled ? again : fallback?.() ?? null;
  target?.focus();
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * Shows `layer` (a dialog or the KTP zoom) over the page: everything else is inert, Tab stays
 * inside, Escape closes, and focus returns to `opener`. Returns close().
 */
export function openModal(layer: HTMLElement, opener: HTMLElement | null, onClose?: () => void, first?: HTMLElement): () => void {
  // Everything beside the layer's ancestors becomes inert (the layer must be in the document).
  const inerted: HTMLElement[] = [];
  for (let n: HTMLElement | null = layer; n && n.parentElement && n !== document.body; n = n.parentElement) {
    for (const sib of Array.from(n.parentElement.children)) {
      if (sib !== n && sib instanceof HTMLElement && !sib.inert && sib.tagName !== 'SCRIPT') { sib.inert = true; inerted.push(sib); }
    }
  }
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    document.removeEventListener('keydown', onKey, true);
    inerted.forEach((n) => { n.inert = false; });
    layer.remove();
    onClose?.();
    if (opener && opener.isConnected) opener.focus();
  };
  const onKey = (ev: KeyboardEvent) => {
    if (!layer.isConnected) { close(); return; }
    if (ev.key === 'Escape') {
      ev.preventDefault();
      close();
    } else if (ev.key === 'Tab') {
      const items = Array.from(layer.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((n) => n.offsetParent !== null || n === document.activeElement);
      if (items.length === 0) { ev.preventDefault(); return; }
      const firstItem = items[0];
      const last = items[items.length - 1];
      const active = document.activeElement;
      if (ev.shiftKey && (active === firstItem || !layer.contains(active))) { ev.preventDefault(); last.focus(); } else if (!ev.shiftKey && (active === last || !layer.contains(active))) { ev.preventDefault(); firstItem.focus(); }
    }
  };
  document.addEventListener('keydown', onKey, true);
  (first ?? layer.querySelector<HTMLElement>(FOCUSABLE))?.focus();
  return close;
}

export function busyBox(text: string, testid?: string): HTMLElement {
  return h('div', { class: 'busy', role: 'status', 'aria-live': 'polite', 'data-testid': testid },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', null, text));
}

/** After this long a network step says the network is slow (and keeps trying). */
export const SLOW_MS = 10_000;

/**
 * The progress of a network step: a spinner and a bar, an optional detail line (the
 * upload's size), and after SLOW_MS "Jaringan lambat, masih mencoba…". The bar is
 * indeterminate until upload() reports the bytes handed to the network (the selfie
 * submit); then it is determinate and the detail line says "… {sent} dari {total} KB".
 * Returns the box, a stop() for its timer and upload().
 */
export function netProgress(text: string, testid?: string, detail?: string): { el: HTMLElement; stop: () => void; upload: (p: UploadProgress) => void } {
  const slow = h('p', { class: 'net-slow', 'data-testid': 'net-slow', hidden: true }, t('net_slow'));
  const bar = h('progress', { class: 'net-progress', 'aria-label': text });
  const line = h('span', { class: 'small', 'data-testid': 'net-detail', hidden: !detail }, detail ?? '');
  const el = h('div', { class: 'busy net-busy', role: 'status', 'aria-live': 'polite', 'data-testid': testid },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }),
    h('span', null, text),
    bar,
    line,
    slow);
  const timer = setTimeout(() => { slow.hidden = false; }, SLOW_MS);
  const kb = (n: number) => Math.ceil(n / 1024);
  const upload = (p: UploadProgress) => {
    if (p.total <= 0) return;
    bar.max = p.total;
    bar.value = Math.min(p.sent, p.total);
    line.hidden = false;
    line.textContent = t('upload_sent', { sent: kb(p.sent), total: kb(p.total) });
  };
  return { el, stop: () => clearTimeout(timer), upload };
}

export function errorBanner(err: UiError | string, retry?: () => void): HTMLElement {
  const msg = typeof err === 'string' ? err : errorText(err);
  return h('div', { class: 'error-banner', role: 'alert', 'data-testid': 'error-banner' },
    h('p', null, msg),
    retry ? h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'btn-retry', onclick: retry }, t('retry')) : null);
}

export function notice(text: string, kind: 'info' | 'success' | 'warn' = 'info', testid?: string): HTMLElement {
  return h('p', { class: `notice ${kind}`, role: kind === 'warn' ? 'alert' : 'status', 'data-testid': testid }, text);
}

export type StepOptions<T> = {
  /** Where the spinner and the error banner go. */
  slot: HTMLElement;
  /** The element that gets aria-busy (the screen). */
  busyOn?: HTMLElement;
  text: string;
  /** `upload` shows an upload's progress (bytes handed to the network) in the bar. */
  run: (upload: (p: UploadProgress) => void) => Promise<T>;
  ok: (value: T) => void;
  /** Handle an error yourself: return true to skip the banner. */
  fail?: (err: UiError) => boolean;
  /** Offer "retry" on failure (default true). */
  retry?: boolean;
  progressTestId?: string;
  /** A line under the progress (e.g. the upload's size). */
  detail?: string;
  /** Buttons to disable while running. */
  disable?: Array<HTMLButtonElement | HTMLInputElement | HTMLSelectElement>;
};

/**
 * Runs a network step with its progress (the slow-network line after 10 s); on failure
 * shows the error banner with "Coba lagi", which runs the same step again (the wallet
 * resends the kept request: the same idempotency key and body).
 */
export async function step<T>(o: StepOptions<T>): Promise<void> {
  const busyEl = o.busyOn ?? o.slot;
  const progress = netProgress(o.text, o.progressTestId, o.detail);
  replace(o.slot, progress.el);
  busyEl.setAttribute('aria-busy', 'true');
  o.disable?.forEach((b) => { b.disabled = true; });
  let value: T;
  try {
    value = await o.run(progress.upload);
  } catch (e) {
    progress.stop();
    const err = toUiError(e);
    busyEl.setAttribute('aria-busy', 'false');
    o.disable?.forEach((b) => { b.disabled = false; });
    replace(o.slot);
    if (o.fail && o.fail(err)) return;
    replace(o.slot, errorBanner(err, o.retry === false ? undefined : () => { void step(o); }));
    return;
  }
  progress.stop();
  busyEl.setAttribute('aria-busy', 'false');
  o.disable?.forEach((b) => { b.disabled = false; });
  replace(o.slot);
  o.ok(value);
}

export function button(text: string, testid: string, onclick: () => void, kind: 'primary' | 'secondary' | 'danger' | 'link' = 'primary', extra: Record<string, unknown> = {}): HTMLButtonElement {
  return h('button', { type: 'button', class: `btn btn-${kind}`, 'data-testid': testid, onclick, ...extra }, text);
}

/**
 * A one-line text field that wraps and grows instead of clipping its value (a long email at
 * 200 % text on a 320 px screen). Enter inserts nothing; pasted line breaks are dropped.
 */
export function textField(props: Record<string, unknown>): HTMLTextAreaElement {
  const ta = h('textarea', { rows: 1, class: 'grow', spellcheck: 'false', autocapitalize: 'off', ...props });
  const fit = () => {
    if (!ta.isConnected) return;
    ta.style.height = 'auto';
    ta.style.height = `${ta.scrollHeight + ta.offsetHeight - ta.clientHeight}px`;
  };
  ta.addEventListener('input', () => {
    if (/[\r\n]/.test(ta.value)) ta.value = ta.value.replace(/[\r\n]+/g, '');
    fit();
  });
  ta.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') ev.preventDefault(); });
  // Refit when the width or the text size changes; deferred to the next frame, since resizing
  // the observed element inside its own callback is a ResizeObserver loop.
  let queued = false;
  const later = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; fit(); });
  };
  if (typeof ResizeObserver !== 'undefined') new ResizeObserver(later).observe(ta);
  return ta;
}

/** Reads a File as standard base64 (without the data: prefix). */
export function fileToBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => {
      const s = String(r.result ?? '');
      const i = s.indexOf(',');
      resolve(i >= 0 ? s.slice(i + 1) : s);
    };
    r.onerror = () => reject(r.error ?? new Error('read failed'));
    r.readAsDataURL(file);
  });
}
