import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPinPad } from './pinpad';
import { setLang } from '../i18n';

const tid = (root: HTMLElement, id: string) => root.querySelector(`[data-testid="${id}"]`) as HTMLElement;
const click = (root: HTMLElement, id: string) => (tid(root, id) as HTMLButtonElement).click();

afterEach(() => {
  document.body.innerHTML = '';
  vi.useRealTimers();
  setLang('id');
});

describe('PIN pad', () => {
  it('fills dots as digits are entered and calls back once complete', () => {
    const done = vi.fn();
    const pad = createPinPad({ prompt: 'PIN', onComplete: done });
    document.body.append(pad.el);
    for (const d of '27182') click(pad.el, `pin-key-${d}`);
    expect(pad.value()).toBe('27182');
    expect(pad.el.querySelectorAll('.pin-dot.filled').length).toBe(5);
    expect(done).not.toHaveBeenCalled();
    click(pad.el, 'pin-key-8');
    expect(done).toHaveBeenCalledWith('271828');
    click(pad.el, 'pin-key-9');
    expect(pad.value()).toBe('271828');
  });

  it('backspace removes the last digit', () => {
    const pad = createPinPad({ prompt: 'PIN', onComplete: () => {} });
    document.body.append(pad.el);
    click(pad.el, 'pin-key-1');
    click(pad.el, 'pin-key-2');
    click(pad.el, 'pin-key-back');
    expect(pad.value()).toBe('1');
    click(pad.el, 'pin-key-back');
    click(pad.el, 'pin-key-back');
    expect(pad.value()).toBe('');
  });

  it('announces progress for screen readers and hides the dots from them', () => {
    const pad = createPinPad({ prompt: 'PIN', onComplete: () => {} });
    document.body.append(pad.el);
    const live = tid(pad.el, 'pin-progress');
    expect(live.getAttribute('aria-live')).toBe('polite');
    expect(live.textContent).toBe('0 dari 6 digit');
    for (const d of '123') click(pad.el, `pin-key-${d}`);
    expect(live.textContent).toBe('3 dari 6 digit');
    expect(pad.el.querySelector('.pin-dots-row')?.getAttribute('aria-hidden')).toBe('true');
    expect(pad.el.querySelector('[role="group"]')).not.toBeNull();
  });

  it('accepts the physical keyboard', () => {
    const done = vi.fn();
    const pad = createPinPad({ prompt: 'PIN', onComplete: done });
    document.body.append(pad.el);
    for (const k of ['4', '7', 'Backspace', '7', '1', '1', '9', '3']) {
      document.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true }));
    }
    expect(done).toHaveBeenCalledWith('471193');
    pad.destroy();
  });

  it('keys are disabled during the lockout countdown and come back after', () => {
    vi.useFakeTimers();
    let now = 1_000_000;
    const ended = vi.fn();
    const pad = createPinPad({ prompt: 'PIN', onComplete: () => {}, now: () => now });
    document.body.append(pad.el);
    pad.lockUntil(now + 30_000, ended);
    expect(pad.isDisabled()).toBe(true);
    expect((tid(pad.el, 'pin-key-1') as HTMLButtonElement).disabled).toBe(true);
    expect(tid(pad.el, 'pin-countdown').textContent).toBe('Coba lagi dalam 0:30');
    click(pad.el, 'pin-key-1');
    expect(pad.value()).toBe('');
    now += 10_000;
    vi.advanceTimersByTime(1000);
    expect(tid(pad.el, 'pin-countdown').textContent).toBe('Coba lagi dalam 0:20');
    now += 20_000;
    vi.advanceTimersByTime(1000);
    expect(pad.isDisabled()).toBe(false);
    expect(tid(pad.el, 'pin-countdown').hidden).toBe(true);
    expect(ended).toHaveBeenCalledOnce();
    click(pad.el, 'pin-key-1');
    expect(pad.value()).toBe('1');
  });

  it('shows messages and attempts left', () => {
    const pad = createPinPad({ prompt: 'PIN', onComplete: () => {} });
    pad.setMessage('PIN salah.');
    pad.setAttempts('Sisa percobaan: 9');
    expect(tid(pad.el, 'pin-message').hidden).toBe(false);
    expect(tid(pad.el, 'pin-message').textContent).toBe('PIN salah.');
    expect(tid(pad.el, 'pin-attempts').textContent).toBe('Sisa percobaan: 9');
    pad.setMessage(null);
    expect(tid(pad.el, 'pin-message').hidden).toBe(true);
  });
});
