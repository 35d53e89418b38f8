// The app on a bad network: the slow-network line, the offline state, cancellation on
// leaving a screen, status polling that backs off and resumes on foreground, and when
// the documents were last updated. Timers are vitest's fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const refreshStatus = vi.fn();
vi.mock('./api', async (orig) => {
  const real = await orig<typeof import('./api')>();
  return { ...real, api: { ...real.api, refreshStatus: (...a: unknown[]) => refreshStatus(...a) } };
});

import { inflight, isOffline, setOffline, tracked } from './net';
import { netProgress, SLOW_MS, step } from './ui';
import { setLang } from './i18n';
import { statusScreen } from './screens/enroll';
import { docsUpdatedAt } from './screens/wallet';
import type { Ctx } from './ctx';
import type { UiError } from './types';

const uiErr = (code: UiError['code']): UiError => ({ code, message: code, detail: null });
const asErr = (e: unknown) => e as UiError;

beforeEach(() => {
  vi.useFakeTimers();
  setLang('id');
  setOffline(false);
});
afterEach(() => {
  vi.useRealTimers();
  refreshStatus.mockReset();
});

describe('progress of a network step', () => {
  it('says "Jaringan lambat, masih mencoba…" after 10 s, not before', () => {
    const p = netProgress('Mengirim pendaftaran…', 'submit-progress', 'Ukuran kiriman: 200 KB');
    const slow = p.el.querySelector<HTMLElement>('[data-testid="net-slow"]');
    expect(slow?.textContent).toBe('Jaringan lambat, masih mencoba…');
    expect(p.el.querySelector('progress')).not.toBeNull();
    expect(p.el.querySelector('[data-testid="net-detail"]')?.textContent).toBe('Ukuran kiriman: 200 KB');
    vi.advanceTimersByTime(SLOW_MS - 1);
    expect(slow?.hidden).toBe(true);
    vi.advanceTimersByTime(1);
    expect(slow?.hidden).toBe(false);
    p.stop();
  });

  it('upload progress makes the bar determinate and says the KB handed to the network', () => {
    const p = netProgress('Mengirim pendaftaran…', 'submit-progress', 'Ukuran kiriman: 97 KB');
    const bar = p.el.querySelector('progress') as HTMLProgressElement;
    expect(bar.hasAttribute('value')).toBe(false);
    p.upload({ sent: 45 * 1024 + 10, total: 97 * 1024 });
    expect(bar.value).toBe(45 * 1024 + 10);
    expect(bar.max).toBe(97 * 1024);
    expect(p.el.querySelector('[data-testid="net-detail"]')?.textContent).toBe('Terkirim: 46 dari 97 KB');
    setLang('en');
    p.upload({ sent: 97 * 1024, total: 97 * 1024 });
    expect(p.el.querySelector('[data-testid="net-detail"]')?.textContent).toBe('Sent: 97 of 97 KB');
    expect(bar.value).toBe(bar.max);
    p.stop();
  });

  it('step() hands its run the upload reporter', async () => {
    const slot = document.createElement('div');
    document.body.append(slot);
    let seen = '';
    await step({
      slot, text: 'x', progressTestId: 'submit-progress',
      run: async (upload) => {
        upload({ sent: 1024, total: 2048 });
        seen = slot.querySelector('[data-testid="net-detail"]')?.textContent ?? '';
        return 1;
      },
      ok: () => {},
    });
    expect(seen).toBe('Terkirim: 1 dari 2 KB');
    slot.remove();
  });

  it('"Coba lagi" runs the same step again, and the slow line starts over', async () => {
    const slot = document.createElement('div');
    document.body.append(slot);
    let calls = 0;
    let ok = false;
    await step({
      slot, text: 'x',
      run: async () => { calls += 1; if (calls === 1) throw uiErr('offline'); return 1; },
      ok: () => { ok = true; },
    });
    expect(slot.querySelector('[data-testid="error-banner"]')).not.toBeNull();
    slot.querySelector<HTMLButtonElement>('[data-testid="btn-retry"]')?.click();
    await vi.runAllTimersAsync();
    expect(calls).toBe(2);
    expect(ok).toBe(true);
    expect(slot.querySelector('[data-testid="net-slow"]')).toBeNull();
  });
});

describe('offline state and cancellation', () => {
  it('an unreachable backend raises the banner state, any answer lowers it', async () => {
    const off = (code: UiError['code']) => tracked('refresh_status', () => Promise.reject(uiErr(code)), asErr).catch(() => {});
    await off('offline');
    expect(isOffline()).toBe(true);
    await off('cancelled');
    expect(isOffline()).toBe(true);
    await off('code_wrong');
    expect(isOffline()).toBe(false);
    await off('timeout');
    expect(isOffline()).toBe(true);
    await tracked('submit_enrollment', () => Promise.resolve(1), asErr);
    expect(isOffline()).toBe(false);
    // A local command says nothing about the network.
    await off('offline');
    await tracked('ktp', () => Promise.reject(uiErr('vault_locked')), asErr).catch(() => {});
    expect(isOffline()).toBe(true);
  });

  it('counts network commands in flight (leaving a screen cancels them)', async () => {
    let finish: (v: number) => void = () => {};
    const running = tracked('activate', () => new Promise<number>((r) => { finish = r; }), asErr);
    expect(inflight()).toBe(1);
    const local = tracked('lock', () => new Promise<number>(() => {}), asErr);
    expect(inflight()).toBe(1);
    finish(1);
    await running;
    expect(inflight()).toBe(0);
    void local;
  });
});

describe('status polling', () => {
  const ctx = {
    state: { enrollment: { status: 'scanned', desk_name: null, reject_reason: null, code_expires_at: null, code_attempts_left: null, email_masked: null } },
    show: () => {},
  } as unknown as Ctx;
  const visibility = (v: 'visible' | 'hidden') => {
    Object.defineProperty(document, 'visibilityState', { value: v, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  };

  it('backs off to a 30 s ceiling while offline, pauses in the background, resumes at once in the foreground', async () => {
    refreshStatus.mockRejectedValue(uiErr('offline'));
    visibility('visible');
    const sc = statusScreen(ctx);
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshStatus).toHaveBeenCalledTimes(1);
    // The first poll runs at once (its 2 s step spent), then 4, 8, 16, and 30 s apart.
    const at: number[] = [];
    for (let t = 0; t < 120; t++) {
      const before = refreshStatus.mock.calls.length;
      await vi.advanceTimersByTimeAsync(1000);
      if (refreshStatus.mock.calls.length > before) at.push(t + 1);
    }
    expect(at).toEqual([4, 12, 28, 58, 88, 118]);
    visibility('hidden');
    const n = refreshStatus.mock.calls.length;
    await vi.advanceTimersByTimeAsync(300_000);
    expect(refreshStatus).toHaveBeenCalledTimes(n);
    visibility('visible');
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshStatus).toHaveBeenCalledTimes(n + 1);
    // And the backoff starts again (the foreground poll spends the 2 s step).
    await vi.advanceTimersByTimeAsync(4000);
    expect(refreshStatus).toHaveBeenCalledTimes(n + 2);
    sc.destroy?.();
  });
});

describe('documents offline', () => {
  it('"Terakhir diperbarui" is the newest storing of the documents', () => {
    expect(docsUpdatedAt([
      { at: '2026-12-01T10:00:00Z', kind: 'unlocked' },
      { at: '2026-11-30T09:00:00Z', kind: 'documents_refreshed' },
      { at: '2026-11-01T08:00:00Z', kind: 'pin_set' },
    ])).toBe('2026-11-30T09:00:00Z');
    expect(docsUpdatedAt([{ at: '2026-11-01T08:00:00Z', kind: 'activated' }])).toBeNull();
  });
});
