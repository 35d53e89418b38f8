// Six code boxes + numeric keypad. Typing, backspace, paste and the keypad all work.
import { h } from '../dom';
import { t } from '../i18n';

export type CodeEntry = {
  el: HTMLElement;
  value(): string;
  clear(): void;
  setDisabled(disabled: boolean): void;
  /** Focuses the first box (after a wrong code). */
  focusFirst(): void;
};

export type CodeEntryOptions = {
  length?: number;
  onChange?: (code: string) => void;
  onComplete?: (code: string) => void;
  /**
   * false on a phone: the boxes get inputmode="none" so the OS keyboard does not open over
   * the app's own keypad (paste and a hardware keyboard still work).
   */
  nativeKeyboard?: boolean;
  /** The boxes' group name (default "Kode aktivasi 6 digit"). */
  label?: string;
};

export function createCodeEntry(opts: CodeEntryOptions = {}): CodeEntry {
  const length = opts.length ?? 6;
  const digits: string[] = Array.from({ length }, () => '');
  let disabled = false;

  const live = h('p', { class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'true', 'data-testid': 'code-progress' });
  const boxes = digits.map((_, i) => {
    const box = h('input', {
      type: 'text',
      inputmode: opts.nativeKeyboard === false ? 'none' : 'numeric',
      pattern: '[0-9]*',
      maxlength: i === 0 ? length : 1,
      autocomplete: i === 0 ? 'one-time-code' : 'off',
      class: 'code-box',
      'data-testid': `code-box-${i}`,
      'aria-label': t('code_box', { n: i + 1 }),
    });
    box.addEventListener('input', () => onInput(i));
    box.addEventListener('keydown', (ev) => onKeyDown(i, ev));
    box.addEventListener('paste', (ev) => onPaste(i, ev));
    box.addEventListener('focus', () => box.select());
    return box;
  });

  const keypadButtons: HTMLButtonElement[] = [];
  const kp = (d: string) => {
    // Out of the Tab order: a keyboard types into the boxes; touch and screen readers still reach the keys.
    const b = h('button', { type: 'button', class: 'key', tabindex: '-1', 'data-testid': `keypad-${d}`, onclick: () => typeDigit(d) }, d);
    keypadButtons.push(b);
    return b;
  };
  const back = h('button', {
    type: 'button', class: 'key key-back', tabindex: '-1', 'data-testid': 'keypad-back', 'aria-label': t('keypad_back'),
    onclick: () => deleteLast(),
  }, '⌫');
  keypadButtons.push(back);

  const el = h('div', { class: 'code-entry' },
    h('div', { class: 'code-boxes', role: 'group', 'aria-label': opts.label ?? t('code_group') }, boxes),
    live,
    h('div', { class: 'keys', role: 'group', 'aria-label': t('keypad_label') },
      ['1', '2', '3', '4', '5', '6', '7', '8', '9'].map(kp),
      h('span', { class: 'key-spacer', 'aria-hidden': 'true' }),
      kp('0'),
      back),
  );

  function value(): string {
    return digits.join('');
  }

  function render(): void {
    boxes.forEach((b, i) => {
      if (b.value !== digits[i]) b.value = digits[i];
      b.classList.toggle('filled', digits[i] !== '');
    });
    const n = digits.filter((d) => d !== '').length;
    live.textContent = t('code_progress', { n });
    opts.onChange?.(value());
    if (n === length) opts.onComplete?.(value());
  }

  function fillFrom(start: number, text: string): number {
    const ds = text.replace(/\D/g, '').slice(0, length - start).split('');
    ds.forEach((d, j) => { digits[start + j] = d; });
    return start + ds.length;
  }

  function focusBox(i: number): void {
    const b = boxes[Math.max(0, Math.min(length - 1, i))];
    if (b && typeof b.focus === 'function') b.focus();
  }

  function onInput(i: number): void {
    if (disabled) { render(); return; }
    const raw = boxes[i].value;
    const ds = raw.replace(/\D/g, '');
    if (raw === '') {
      digits[i] = '';
      render();
      return;
    }
    if (ds === '') {
      // non-digit typed: ignore it
      render();
      return;
    }
    // A box may briefly hold the old digit plus the new one: keep the newest.
    const text = ds.length === 2 && digits[i] !== '' && ds.startsWith(digits[i]) ? ds.slice(1) : ds;
    const next = fillFrom(i, text);
    render();
    focusBox(next);
  }

  function onKeyDown(i: number, ev: KeyboardEvent): void {
    if (ev.key === 'Backspace' && digits[i] === '' && i > 0) {
      ev.preventDefault();
      digits[i - 1] = '';
      render();
      focusBox(i - 1);
    } else if (ev.key === 'ArrowLeft' && i > 0) {
      ev.preventDefault();
      focusBox(i - 1);
    } else if (ev.key === 'ArrowRight' && i < length - 1) {
      ev.preventDefault();
      focusBox(i + 1);
    }
  }

  function onPaste(i: number, ev: ClipboardEvent): void {
    ev.preventDefault();
    if (disabled) return;
    const text = ev.clipboardData?.getData('text') ?? '';
    const ds = text.replace(/\D/g, '');
    if (!ds) return;
    const start = ds.length >= length ? 0 : i;
    const next = fillFrom(start, ds);
    render();
    focusBox(next);
  }

  function typeDigit(d: string): void {
    if (disabled) return;
    const i = digits.indexOf('');
    if (i < 0) return;
    digits[i] = d;
    render();
  }

  function deleteLast(): void {
    if (disabled) return;
    for (let i = length - 1; i >= 0; i--) {
      if (digits[i] !== '') {
        digits[i] = '';
        break;
      }
    }
    render();
  }

  render();
  return {
    el,
    value,
    clear() {
      digits.fill('');
      render();
    },
    focusFirst() {
      focusBox(0);
    },
    setDisabled(v) {
      disabled = v;
      boxes.forEach((b) => { b.disabled = v; });
      keypadButtons.forEach((b) => { b.disabled = v; });
    },
  };
}
