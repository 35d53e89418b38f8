import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCodeEntry } from './codeentry';

const box = (root: HTMLElement, i: number) => root.querySelector(`[data-testid="code-box-${i}"]`) as HTMLInputElement;
const key = (root: HTMLElement, k: string) => (root.querySelector(`[data-testid="keypad-${k}"]`) as HTMLButtonElement).click();

function type(input: HTMLInputElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

function paste(input: HTMLInputElement, text: string): void {
  const ev = new Event('paste', { bubbles: true, cancelable: true }) as Event & { clipboardData: unknown };
  Object.defineProperty(ev, 'clipboardData', { value: { getData: () => text } });
  input.dispatchEvent(ev);
}

afterEach(() => { document.body.innerHTML = ''; });

describe('activation code entry', () => {
  it('on a phone the boxes open no OS keyboard (the app has its keypad), elsewhere a numeric one', () => {
    const phone = createCodeEntry({ nativeKeyboard: false });
    expect(phone.el.querySelector('[data-testid="code-box-0"]')?.getAttribute('inputmode')).toBe('none');
    const desk = createCodeEntry({});
    expect(desk.el.querySelector('[data-testid="code-box-0"]')?.getAttribute('inputmode')).toBe('numeric');
    expect(desk.el.querySelector('[data-testid="keypad-1"]')?.getAttribute('tabindex')).toBe('-1');
  });

  it('has six labelled boxes in a group', () => {
    const c = createCodeEntry();
    for (let i = 0; i < 6; i++) {
      expect(box(c.el, i)).not.toBeNull();
      expect(box(c.el, i).getAttribute('aria-label')).toBe(`Digit ${i + 1} dari 6`);
    }
    expect(c.el.querySelector('.code-boxes')?.getAttribute('role')).toBe('group');
  });

  it('typing a digit fills the box and moves on; non-digits are ignored', () => {
    const c = createCodeEntry();
    document.body.append(c.el);
    type(box(c.el, 0), '4');
    expect(c.value()).toBe('4');
    expect(document.activeElement).toBe(box(c.el, 1));
    type(box(c.el, 1), 'x');
    expect(box(c.el, 1).value).toBe('');
    expect(c.value()).toBe('4');
    type(box(c.el, 1), '2');
    expect(c.value()).toBe('42');
  });

  it('paste of six digits fills every box, ignoring spaces and dashes', () => {
    const done = vi.fn();
    const c = createCodeEntry({ onComplete: done });
    document.body.append(c.el);
    paste(box(c.el, 3), '12-34 56');
    expect(c.value()).toBe('123456');
    expect(box(c.el, 5).value).toBe('6');
    expect(done).toHaveBeenCalledWith('123456');
  });

  it('paste of letters changes nothing', () => {
    const c = createCodeEntry();
    paste(box(c.el, 0), 'abc');
    expect(c.value()).toBe('');
  });

  it('keypad types and deletes; announces progress', () => {
    const changes: string[] = [];
    const c = createCodeEntry({ onChange: (v) => changes.push(v) });
    for (const k of ['9', '8', '7']) key(c.el, k);
    expect(c.value()).toBe('987');
    expect(c.el.querySelector('[data-testid="code-progress"]')?.textContent).toBe('3 dari 6 digit');
    key(c.el, 'back');
    expect(c.value()).toBe('98');
    for (const k of ['1', '2', '3', '4', '5']) key(c.el, k);
    expect(c.value()).toBe('981234');
    expect(changes[changes.length - 1]).toBe('981234');
  });

  it('backspace in an empty box clears the previous one', () => {
    const c = createCodeEntry();
    document.body.append(c.el);
    type(box(c.el, 0), '5');
    box(c.el, 1).dispatchEvent(new KeyboardEvent('keydown', { key: 'Backspace', bubbles: true, cancelable: true }));
    expect(c.value()).toBe('');
  });

  it('disabled entry ignores the keypad', () => {
    const c = createCodeEntry();
    c.setDisabled(true);
    key(c.el, '1');
    expect(c.value()).toBe('');
    c.setDisabled(false);
    key(c.el, '1');
    expect(c.value()).toBe('1');
  });
});
