// The Kartu Keluarga, laid out like the printed form; tables scroll sideways on a phone.
import { h } from '../dom';
import { t } from '../i18n';
import { ddmmyyyy } from '../format';
import type { KkView } from '../types';

const up = (s: string | null | undefined) => (s ? s.toUpperCase() : '-');

export function renderKk(view: KkView): HTMLElement {
  const kk = view.kk;
  const pair = (label: string, value: string, testid?: string) =>
    h('div', { class: 'kk-pair' },
      h('dt', null, label),
      h('span', { class: 'ktp-colon', 'aria-hidden': 'true' }, ':'),
      h('dd', testid ? { 'data-testid': testid } : null, value));

  const table = (testid: string, caption: string, head: string[], rows: string[][]) =>
    h('div', { class: 'kk-scroll', tabindex: '0', role: 'region', 'aria-label': caption },
      h('table', { class: 'kk-table', 'data-testid': testid },
        h('caption', { class: 'sr-only' }, caption),
        h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => (i === 1 && testid === 'kk-table-1'
          ? h('th', { scope: 'row' }, c)
          : h('td', null, c))))))));

  const a = kk.anggota;
  return h('div', { class: 'kk-doc' },
    h('div', { class: 'kk-head' },
      h('h2', { class: 'kk-title' }, 'KARTU KELUARGA'),
      h('p', { class: 'kk-no' }, 'No. ', h('span', { 'data-testid': 'kk-nomor' }, kk.nomor_kk))),
    h('div', { class: 'kk-info' },
      h('dl', null,
        pair('Nama Kepala Keluarga', up(kk.kepala_keluarga), 'kk-kepala'),
        pair('Alamat', up(kk.alamat)),
        pair('RT/RW', up(kk.rt_rw)),
        pair('Desa/Kelurahan', up(kk.kel_desa))),
      h('dl', null,
        pair('Kecamatan', up(kk.kecamatan)),
        pair('Kabupaten/Kota', up(kk.kabupaten_kota)),
        pair('Kode Pos', up(kk.kode_pos)),
        pair('Provinsi', up(kk.provinsi)))),
    h('p', { class: 'hint' }, t('kk_scroll_hint')),
    table('kk-table-1', 'Tabel 1',
      ['No', 'Nama Lengkap', 'NIK', 'Jenis Kelamin', 'Tempat Lahir', 'Tanggal Lahir', 'Agama', 'Pendidikan', 'Jenis Pekerjaan', 'Golongan Darah'],
      a.map((m, i) => [String(i + 1), up(m.nama), m.nik, up(m.jenis_kelamin), up(m.tempat_lahir), ddmmyyyy(m.tanggal_lahir),
        up(m.agama), up(m.pendidikan), up(m.pekerjaan), up(m.golongan_darah)])),
    table('kk-table-2', 'Tabel 2',
      ['No', 'Status Perkawinan', 'Tanggal Perkawinan', 'Status Hubungan Dalam Keluarga', 'Kewarganegaraan', 'No. Paspor', 'No. KITAP', 'Ayah', 'Ibu'],
      a.map((m, i) => [String(i + 1), up(m.status_perkawinan), m.tanggal_perkawinan ? ddmmyyyy(m.tanggal_perkawinan) : '-',
        up(m.hubungan), up(m.kewarganegaraan), up(m.paspor), up(m.kitap), up(m.ayah), up(m.ibu)])),
    h('p', { class: 'kk-foot' }, 'Dikeluarkan Tanggal: ', h('span', { 'data-testid': 'kk-tanggal' }, ddmmyyyy(kk.tanggal_terbit))),
  );
}
