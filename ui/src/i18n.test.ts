import { afterEach, describe, expect, it } from 'vitest';
import { _dicts, ERROR_CODES, errorCodeText, errorText, historyText, setLang, t } from './i18n';
import type { ErrorCode, HistoryKind } from './types';

afterEach(() => setLang('id'));

describe('i18n', () => {
  it('every ErrorCode has Indonesian and English text', () => {
    expect(ERROR_CODES.length).toBe(35);
    for (const code of ERROR_CODES) {
      const id = errorCodeText(code, 'id');
      const en = errorCodeText(code, 'en');
      expect(id, code).toBeTruthy();
      expect(en, code).toBeTruthy();
      expect(_dicts.errors.id[code], code).toBeTruthy();
      expect(_dicts.errors.en[code], code).toBeTruthy();
    }
    expect(Object.keys(_dicts.errors.id).sort()).toEqual([...ERROR_CODES].sort());
    expect(Object.keys(_dicts.errors.en).sort()).toEqual([...ERROR_CODES].sort());
  });

  it('both dictionaries have the same keys and no empty strings', () => {
    const id = _dicts.dicts.id;
    const en = _dicts.dicts.en;
    expect(Object.keys(en).sort()).toEqual(Object.keys(id).sort());
    for (const [k, v] of Object.entries(en)) expect(v, k).not.toBe('');
    for (const [k, v] of Object.entries(id)) expect(v, k).not.toBe('');
  });

  it('words PIN policy reasons', () => {
    const e = (reason: string) => errorText({ code: 'pin_policy', message: '', detail: { reason } });
    expect(e('repeated')).toBe('PIN tidak boleh angka yang sama semua.');
    expect(e('sequence')).toBe('PIN tidak boleh berurutan.');
    expect(e('birth_date')).toBe('PIN tidak boleh tanggal lahir.');
    expect(e('something_new')).toBe(errorCodeText('pin_policy'));
  });

  it('words detail of NIK, ineligible, wrong code and rate limits', () => {
    expect(errorText({ code: 'invalid_nik', message: '', detail: { reason: 'length', digits: 15 } })).toBe('NIK harus 16 digit.');
    expect(errorText({ code: 'invalid_nik', message: '', detail: { reason: 'unknown_province', province: '99' } })).toBe('Kode provinsi pada NIK tidak dikenal.');
    for (const r of ['non_digit', 'impossible_date', 'serial_zero']) {
      expect(errorText({ code: 'invalid_nik', message: '', detail: { reason: r } })).not.toBe(errorText({ code: 'invalid_nik', message: '', detail: null }));
    }
    expect(errorText({ code: 'invalid_phone', message: '', detail: { reason: 'not_mobile' } })).toMatch(/seluler/);
    expect(errorText({ code: 'invalid_email', message: '', detail: { reason: 'at_count' } })).toMatch(/@/);
    expect(errorText({ code: 'invalid_email', message: '', detail: { reason: 'local_dots' } })).toBe('Alamat email tidak valid.');
    expect(errorText({ code: 'ineligible', message: '', detail: { reason: 'under_age' } })).toMatch(/17 tahun/);
    expect(errorText({ code: 'code_wrong', message: '', detail: { attempts_left: 3 } })).toBe('Kode aktivasi salah. Sisa percobaan: 3');
    expect(errorText({ code: 'rate_limited', message: '', detail: { retry_after_secs: 30 } })).toMatch(/30 detik/);
    expect(errorText({ code: 'offline', message: '', detail: null })).toMatch(/koneksi/);
  });

  it('switches language', () => {
    setLang('en');
    expect(t('btn_daftar')).toBe('Register');
    expect(errorText({ code: 'pin_policy', message: '', detail: { reason: 'sequence' } })).toBe('The PIN cannot be a sequence.');
    expect(document.documentElement.lang).toBe('en');
    setLang('xx');
    expect(t('btn_daftar')).toBe('Daftar');
  });

  it('words every history kind', () => {
    const kinds = Object.keys(_dicts.histories.id) as HistoryKind[];
    // Completeness is the compiler's (Record<HistoryKind, string>); both languages word the same kinds.
    expect(kinds.slice().sort()).toEqual(Object.keys(_dicts.histories.en).sort());
    expect(kinds).toContain('presented');
    for (const k of kinds) {
      expect(historyText(k)).toBeTruthy();
      expect(_dicts.histories.en[k]).toBeTruthy();
    }
  });

  it('unknown codes fall back to a generic text', () => {
    expect(errorCodeText('nope' as ErrorCode)).toBe(errorCodeText('internal'));
  });
});
