// The KTP-el card, laid out like the printed card. No state emblems.
import { h } from '../dom';
import { t } from '../i18n';
import { ddmmyyyy } from '../format';
import type { KtpView } from '../types';
import { icon } from '../icons';

/** Red for an odd birth year, blue for an even one (as on the printed card). */
export function photoBackground(tanggalLahir: string): 'red' | 'blue' {
  const year = parseInt(tanggalLahir.slice(0, 4), 10);
  return Number.isFinite(year) && year % 2 === 1 ? 'red' : 'blue';
}

/** "SEUMUR HIDUP" stays; a date becomes DD-MM-YYYY. */
export function berlakuText(v: string): string {
  return /^\d{4}-\d{2}-\d{2}/.test(v) ? ddmmyyyy(v) : v.toUpperCase();
}

export const KTP_LABELS = [
  'NIK', 'Nama', 'Tempat/Tgl Lahir', 'Jenis Kelamin', 'Alamat', 'RT/RW', 'Kel/Desa', 'Kecamatan',
  'Agama', 'Status Perkawinan', 'Pekerjaan', 'Kewarganegaraan', 'Berlaku Hingga',
] as const;

const up = (s: string) => (s ?? '').toUpperCase();

export function renderKtpCard(view: KtpView): HTMLElement {
  const k = view.ktp;
  const row = (label: string, value: Node | string, extra: Record<string, string> = {}) =>
    h('div', { class: 'ktp-row', 'data-label': label },
      h('dt', null, label),
      h('span', { class: 'ktp-colon', 'aria-hidden': 'true' }, ':'),
      h('dd', extra, value));

  const sexLine = h('span', { class: 'ktp-sex' },
    h('span', null, up(k.jenis_kelamin)),
    h('span', { class: 'ktp-blood' },
      h('span', { class: 'ktp-blood-label' }, 'Gol. Darah'),
      h('span', { 'aria-hidden': 'true' }, ' : '),
      h('span', { 'data-testid': 'ktp-goldar' }, up(k.golongan_darah) || '-')));

  const bg = photoBackground(k.tanggal_lahir);
  const card = h('div', {
    class: 'ktp-card', 'data-testid': 'ktp-card', role: 'group', 'aria-label': 'KTP-el',
  },
  h('div', { class: 'ktp-head' },
    h('div', null, `PROVINSI ${up(k.provinsi)}`),
    h('div', null, up(k.kabupaten_kota))),
  view.verified
    ? h('div', { class: 'ktp-verified', 'data-testid': 'ktp-verified' }, icon('check'), ' ', t('ktp_verified'))
    : null,
  h('div', { class: 'ktp-body' },
    h('dl', { class: 'ktp-fields' },
      row('NIK', up(k.nik), { 'data-testid': 'ktp-nik', class: 'ktp-nik' }),
      row('Nama', up(k.nama), { 'data-testid': 'ktp-nama' }),
      row('Tempat/Tgl Lahir', `${up(k.tempat_lahir)}, ${ddmmyyyy(k.tanggal_lahir)}`, { 'data-testid': 'ktp-ttl' }),
      row('Jenis Kelamin', sexLine),
      row('Alamat', up(k.alamat)),
      row('RT/RW', up(k.rt_rw)),
      row('Kel/Desa', up(k.kel_desa)),
      row('Kecamatan', up(k.kecamatan)),
      row('Agama', up(k.agama)),
      row('Status Perkawinan', up(k.status_perkawinan)),
      row('Pekerjaan', up(k.pekerjaan)),
      row('Kewarganegaraan', up(k.kewarganegaraan)),
      row('Berlaku Hingga', berlakuText(k.berlaku_hingga), { 'data-testid': 'ktp-berlaku' })),
    h('div', { class: 'ktp-side' },
      h('div', { class: `ktp-photo bg-${bg}`, 'data-bg': bg },
        h('img', {
          'data-testid': 'ktp-photo', src: `data:image/jpeg;base64,${k.foto}`,
          alt: t('photo_alt', { name: k.nama }),
        })),
      h('div', { class: 'ktp-issue', 'data-testid': 'ktp-issue' },
        h('div', null, up(k.tempat_terbit)),
        h('div', null, ddmmyyyy(k.tanggal_terbit))),
      h('div', { class: 'ktp-sign', 'aria-hidden': 'true' }))),
  );
  return card;
}

/** The "Teks besar" view: the card's fields as label/value rows in rem (they follow the system text size). */
export function renderKtpLarge(view: KtpView): HTMLElement {
  const k = view.ktp;
  const rows: Array<[string, string]> = [
    ['NIK', up(k.nik)],
    ['Nama', up(k.nama)],
    ['Tempat/Tgl Lahir', `${up(k.tempat_lahir)}, ${ddmmyyyy(k.tanggal_lahir)}`],
    ['Jenis Kelamin', up(k.jenis_kelamin)],
    ['Gol. Darah', up(k.golongan_darah) || '-'],
    ['Alamat', up(k.alamat)],
    ['RT/RW', up(k.rt_rw)],
    ['Kel/Desa', up(k.kel_desa)],
    ['Kecamatan', up(k.kecamatan)],
    ['Kabupaten/Kota', up(k.kabupaten_kota)],
    ['Provinsi', up(k.provinsi)],
    ['Agama', up(k.agama)],
    ['Status Perkawinan', up(k.status_perkawinan)],
    ['Pekerjaan', up(k.pekerjaan)],
    ['Kewarganegaraan', up(k.kewarganegaraan)],
    ['Berlaku Hingga', berlakuText(k.berlaku_hingga)],
    ['Dikeluarkan', `${up(k.tempat_terbit)}, ${ddmmyyyy(k.tanggal_terbit)}`],
  ];
  return h('section', { class: 'doc-large', 'data-testid': 'ktp-large', 'aria-label': 'KTP-el' },
    h('div', { class: 'doc-large-head' },
      h('img', { class: 'doc-large-photo', src: `data:image/jpeg;base64,${k.foto}`, alt: t('photo_alt', { name: k.nama }) }),
      view.verified ? h('p', { class: 'badge-ok' }, icon('check'), ' ', t('ktp_verified')) : null),
    h('dl', { class: 'pairs' }, rows.map(([label, value]) => h('div', { class: 'pair' }, h('dt', null, label), h('dd', null, value)))));
}
