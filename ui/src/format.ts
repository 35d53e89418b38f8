// Date and time formatting.
import { lang } from './i18n';

/** "YYYY-MM-DD" (or an RFC 3339 timestamp's date part) → "DD-MM-YYYY". Other text is returned as is. */
export function ddmmyyyy(iso: string | null | undefined): string {
  if (!iso) return '-';
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  return m ? `${m[3]}-${m[2]}-${m[1]}` : iso;
}

/** Seconds → "hh:mm" (rounded up to the minute). */
export function hhmm(totalSecs: number): string {
  const mins = Math.max(0, Math.ceil(totalSecs / 60));
  const h = Math.floor(mins / 60);
  const m = mins % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

/** Seconds → "23 jam 59 menit" / "23 hours 59 minutes" (rounded up to the minute). */
export function durationText(totalSecs: number): string {
  const mins = Math.max(0, Math.ceil(totalSecs / 60));
  const hours = Math.floor(mins / 60);
  const m = mins % 60;
  const en = lang() === 'en';
  const hText = en ? `${hours} ${hours === 1 ? 'hour' : 'hours'}` : `${hours} jam`;
  const mText = en ? `${m} ${m === 1 ? 'minute' : 'minutes'}` : `${m} menit`;
  if (hours === 0) return mText;
  if (m === 0) return hText;
  return `${hText} ${mText}`;
}

/** Seconds → "m:ss". */
export function mmss(totalSecs: number): string {
  const s = Math.max(0, Math.ceil(totalSecs));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Seconds from now until an RFC 3339 time (negative when past). */
export function secsUntil(rfc3339: string, now: number = Date.now()): number {
  const t = Date.parse(rfc3339);
  return Number.isNaN(t) ? 0 : (t - now) / 1000;
}

/** An RFC 3339 time in local date and time, e.g. "29 Nov 2026 18.40". */
export function localDateTime(rfc3339: string): string {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  try {
    return d.toLocaleString(lang() === 'en' ? 'en-GB' : 'id-ID', {
      day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
    });
  } catch {
    return d.toISOString();
  }
}
