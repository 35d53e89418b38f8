// The 6-digit PIN pad: dots, keys, physical keyboard, screen-reader progress, lockout countdown.
import { h, uid } from '../dom';
import { t } from '../i18n';
import { mmss } from '../format';

export type PinPad = {
  el: HTMLElement;
  value(): string;
  clear(): void;
  setDisabled(disabled: boolean): void;
  isDisabled(): boolean;
  setMessage(text: string | null, kind?: 'error' | 'info'): void;
  /** `warn`: the last tries before the documents are wiped. */
  setAttempts(text: string | null, warn?: boolean): void;
  /** Disables the keys until `untilMs` (epoch ms), showing a countdown; then calls onEnd. */
  lockUntil(untilMs: number, onEnd?: () => void): void;
  destroy(): void;
};

export type PinPadOptions = {
  length?: number;
  prompt: string;
  onComplete: (pin: string) => void;
  /** Time source, for tests. */
  now?: () => number;
};

export function createPinPad(opts: PinPadOptions): PinPad {
  const length = opts.length ?? 6;
  const now = opts.now ?? (() => Date.now());
  let pin = '';
  let disabled = false;
  let timer: ReturnType<typeof setInterval> | null = null;

  const promptId = uid('pin-prompt');
  const dots = Array.from({ length }, (_, i) => h('span', { class: 'pin-dot', 'data-testid': `pin-dot-${i}` }));
  const live = h('p', { class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'true', 'data-testid': 'pin-progress' });
  const message = h('p', { class: 'pin-message', 'data-testid': 'pin-message', role: 'alert', hidden: true });
  const attempts = h('p', { class: 'pin-attempts', 'data-testid': 'pin-attempts', hidden: true });
  const countdown = h('p', { class: 'pin-countdown', 'data-testid': 'pin-countdown', role: 'timer', hidden: true });

  const keys: HTMLButtonElement[] = [];
  const key = (d: string) => {
    const b = h('button', { type: 'button', class: 'key', 'data-testid': `pin-key-${d}`, onclick: () => press(d) }, d);
    keys.push(b);
    return b;
  };
  const back = h('button', {
    type: 'button', class: 'key key-back', 'data-testid': 'pin-key-back', 'aria-label': t('keypad_back'),
    onclick: () => backspace(),
  }, '⌫');
  keys.push(back);

  const el = h('div', { class: 'pinpad' },
    h('p', { id: promptId, class: 'pin-prompt', tabindex: '-1' }, opts.prompt),
    h('div', { class: 'pin-dots', role: 'group', 'aria-labelledby': promptId },
      h('span', { class: 'pin-dots-row', 'aria-hidden': 'true' }, dots),
      live),
    message, attempts, countdown,
    h('div', { class: 'keys', role: 'group', 'aria-label': t('pin_group') },
      ['1', '2', '3', '4', '5', '6', '7', '8', '9'].map(key),
      h('span', { class: 'key-spacer', 'aria-hidden': 'true' }),
      key('0'),
      back),
  );

  function render(): void {
    dots.forEach((d, i) => d.classList.toggle('filled', i < pin.length));
    live.textContent = t('pin_progress', { n: pin.length });
  }

  function press(d: string): void {
    if (disabled || pin.length >= length) return;
    pin += d;
    render();
    if (pin.length === length) opts.onComplete(pin);
  }

  function backspace(): void {
    if (disabled || pin.length === 0) return;
    pin = pin.slice(0, -1);
    render();
  }

  function onKey(ev: KeyboardEvent): void {
    if (!el.isConnected) {
      document.removeEventListener('keydown', onKey);
      return;
    }
    const target = ev.target as HTMLElement | null;
    if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT')) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (/^[0-9]$/.test(ev.key)) {
      ev.preventDefault();
      press(ev.key);
    } else if (ev.key === 'Backspace') {
      ev.preventDefault();
      backspace();
    }
  }
  document.addEventListener('keydown', onKey);

  function setDisabled(v: boolean): void {
    disabled = v;
    keys.forEach((k) => { k.disabled = v; });
    el.setAttribute('aria-disabled', String(v));
  }

  function stopTimer(): void {
    if (timer !== null) clearInterval(timer);
    timer = null;
  }

  render();
  return {
    el,
    value: () => pin,
    clear: () => { pin = ''; render(); },
    setDisabled,
    isDisabled: () => disabled,
    setMessage(text, kind = 'error') {
      message.hidden = !text;
      message.textContent = text ?? '';
      message.className = `pin-message ${kind}`;
    },
    setAttempts(text, warn = false) {
      attempts.hidden = !text;
      attempts.textContent = text ?? '';
      attempts.classList.toggle('warn', warn);
    },
    lockUntil(untilMs, onEnd) {
      stopTimer();
      const tick = () => {
        const left = (untilMs - now()) / 1000;
        if (left <= 0) {
          stopTimer();
          countdown.hidden = true;
          countdown.textContent = '';
          setDisabled(false);
          onEnd?.();
          return;
        }
        countdown.hidden = false;
        countdown.textContent = t('pin_wait', { time: mmss(left) });
      };
      setDisabled(true);
      tick();
      if (disabled) timer = setInterval(tick, 1000);
    },
    destroy() {
      stopTimer();
      document.removeEventListener('keydown', onKey);
    },
  };
}
