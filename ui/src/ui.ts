// Shared screen pieces: the screen frame, progress, error banner with retry.
import { h, replace, type Child } from './dom';
import { errorText, t } from './i18n';
import { toUiError } from './api';
import type { UiError } from './types';
import { icon } from './icons';

export type Screen = { el: HTMLElement; destroy?: () => void };

export function frame(name: string, title: string, opts: { back?: () => void; actions?: Child } = {}, ...children: Child[]): HTMLElement {
  return h('main', { class: `screen screen-${name}`, 'data-testid': `screen-${name}` },
    h('header', { class: 'bar' },
      opts.back
        ? h('button', { type: 'button', class: 'btn-icon', 'data-testid': 'btn-back', 'aria-label': t('back'), onclick: opts.back },
          icon('back'))
        : null,
      h('h1', { tabindex: '-1' }, title),
      opts.actions ?? null),
    h('div', { class: 'content' }, children));
}

export function busyBox(text: string, testid?: string): HTMLElement {
  return h('div', { class: 'busy', role: 'status', 'aria-live': 'polite', 'data-testid': testid },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', null, text));
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
  run: () => Promise<T>;
  ok: (value: T) => void;
  /** Handle an error yourself: return true to skip the banner. */
  fail?: (err: UiError) => boolean;
  /** Offer "retry" on failure (default true). */
  retry?: boolean;
  progressTestId?: string;
  /** Buttons to disable while running. */
  disable?: Array<HTMLButtonElement | HTMLInputElement | HTMLSelectElement>;
};

/** Runs a network step with a spinner; on failure shows the error banner with a retry. */
export async function step<T>(o: StepOptions<T>): Promise<void> {
  const busyEl = o.busyOn ?? o.slot;
  replace(o.slot, busyBox(o.text, o.progressTestId));
  busyEl.setAttribute('aria-busy', 'true');
  o.disable?.forEach((b) => { b.disabled = true; });
  let value: T;
  try {
    value = await o.run();
  } catch (e) {
    const err = toUiError(e);
    busyEl.setAttribute('aria-busy', 'false');
    o.disable?.forEach((b) => { b.disabled = false; });
    replace(o.slot);
    if (o.fail && o.fail(err)) return;
    replace(o.slot, errorBanner(err, o.retry === false ? undefined : () => { void step(o); }));
    return;
  }
  busyEl.setAttribute('aria-busy', 'false');
  o.disable?.forEach((b) => { b.disabled = false; });
  replace(o.slot);
  o.ok(value);
}

export function button(text: string, testid: string, onclick: () => void, kind: 'primary' | 'secondary' | 'danger' | 'link' = 'primary', extra: Record<string, unknown> = {}): HTMLButtonElement {
  return h('button', { type: 'button', class: `btn btn-${kind}`, 'data-testid': testid, onclick, ...extra }, text);
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
