import { describe, expect, it } from 'vitest';
import { isMobileUa, screenFor } from './app';
import { nextDelay } from './screens/enroll';
import { durationText, hhmm, mmss, secsUntil } from './format';
import { setLang } from './i18n';
import { verdictText } from './screens/onboarding';
import { toUiError } from './api';
import type { AppState, EnrollmentStatusWire, Stage } from './types';

const state = (stage: Stage, status?: EnrollmentStatusWire): AppState => ({
  stage,
  enrollment: status ? { status, desk_name: null, reject_reason: null, code_expires_at: null, code_attempts_left: null, email_masked: null, desk_confirm_code: null, pin_reset_usable_at: null } : null,
  lockout: null,
  settings: { language: 'id', auto_lock_secs: 120, backend_url: '', verifier_url: '' },
  dev_build: false,
  documents_wiped: false,
  pin_reset_pending: false,
  key_store: 'os',
});

describe('routing from app_state', () => {
  it('picks the screen for each stage', () => {
    expect(screenFor(state('welcome'))).toBe('welcome');
    expect(screenFor(state('draft'))).toBe('register');
    expect(screenFor(state('enrolling', 'submitted'))).toBe('submitted');
    expect(screenFor(state('enrolling', 'scanned'))).toBe('status');
    expect(screenFor(state('enrolling', 'approved'))).toBe('status');
    expect(screenFor(state('enrolling', 'rejected'))).toBe('status');
    expect(screenFor(state('needs_pin'))).toBe('create-pin');
    expect(screenFor(state('locked'))).toBe('pin');
    expect(screenFor(state('unlocked'))).toBe('home');
    expect(screenFor({ ...state('locked'), pin_reset_pending: true })).toBe('reset-code');
  });

  it('detects phones by user agent', () => {
    expect(isMobileUa('Mozilla/5.0 (Linux; Android 14; Pixel 8)')).toBe(true);
    expect(isMobileUa('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)')).toBe(true);
    expect(isMobileUa('Mozilla/5.0 (X11; Linux x86_64)')).toBe(false);
  });
});

describe('status polling and time', () => {
  it('backs off 2, 4, 8, 16, 30, 30 s', () => {
    const seq: number[] = [];
    let d: number | null = null;
    for (let i = 0; i < 6; i++) { d = nextDelay(d); seq.push(d); }
    expect(seq).toEqual([2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('formats countdowns', () => {
    expect(hhmm(23 * 3600 + 59 * 60)).toBe('23:59');
    expect(hhmm(61)).toBe('00:02');
    expect(mmss(30)).toBe('0:30');
    expect(mmss(125)).toBe('2:05');
    expect(secsUntil('2026-01-01T00:01:00Z', Date.parse('2026-01-01T00:00:00Z'))).toBe(60);
  });

  it('words a validity as hours and minutes, not as a clock time', () => {
    expect(durationText(23 * 3600 + 59 * 60)).toBe('23 jam 59 menit');
    expect(durationText(61)).toBe('2 menit');
    expect(durationText(2 * 3600)).toBe('2 jam');
    setLang('en');
    expect(durationText(3600 + 60)).toBe('1 hour 1 minute');
    expect(durationText(23 * 3600 + 59 * 60)).toBe('23 hours 59 minutes');
    setLang('id');
  });

  it('words every selfie verdict, also the face verdicts and kinds not known yet', () => {
    for (const kind of ['no_face', 'several_faces', 'face_too_small', 'face_off_centre']) {
      const v = verdictText({ kind });
      expect(v.title, kind).toBe('Wajah tidak terlihat jelas');
      expect(v.help, kind).not.toBe('');
    }
    expect(new Set(['no_face', 'several_faces', 'face_too_small', 'face_off_centre'].map((kind) => verdictText({ kind }).help)).size).toBe(4);
    expect(verdictText({ kind: 'too_dark' }).title).toBe('Terlalu gelap');
    expect(verdictText({ kind: 'from_a_newer_core' }).title).toBe('Foto belum memenuhi syarat');
    setLang('en');
    expect(verdictText({ kind: 'no_face' }).title).toBe('Face not clearly visible');
    setLang('id');
  });

  it('normalises thrown values to UiError', () => {
    expect(toUiError({ code: 'wrong_pin', message: 'x', detail: { attempts_left: 2 } }).detail).toEqual({ attempts_left: 2 });
    expect(toUiError('boom').code).toBe('internal');
    expect(toUiError({ code: 'brand_new_code', message: 'x' }).code).toBe('internal');
  });
});
