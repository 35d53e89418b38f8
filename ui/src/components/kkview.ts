// The Kartu Keluarga. By default the header as a stacked label/value list and one card per
// family member (headed by the member's name), which reflows at any text size; the faithful
// two tables of the printed KK are one tap away (they scroll sideways on a phone).
import { h, replace } from '../dom';
import { t } from '../i18n';
import { ddmmyyyy } from '../format';
import type { Anggota, KkView } from '../types';

const up = (s: string | null | undefined) => (s ? s.toUpperCase() : '-');

const pairs = (rows: Array<[string, string, string?]>) =>
  h('dl', { class: 'pairs' }, rows.map(([label, value, testid]) =>
    h('div', { class: 'pair' }, h('dt', null, label), h('dd', testid ? { 'data-testid': testid } : null, value))));

function memberRows(m: Anggota): Array<[string, string]> {
  return [
    ['NIK', m.nik],
    ['Status Hubungan Dalam Keluarga', up(m.hubungan)],
    ['Jenis Kelamin', up(m.jenis_kelamin)],
    ['Tempat Lahir', up(m.tempat_lahir)],
    ['Tanggal Lahir', ddmmyyyy(m.tanggal_lahir)],
    ['Agama', up(m.agama)],
    ['Pendidikan', up(m.pendidikan)],
    ['Jenis Pekerjaan', up(m.pekerjaan)],
    ['Golongan Darah', up(m.golongan_darah)],
    ['Status Perkawinan', up(m.status_perkawinan)],
    ['Tanggal Perkawinan', m.tanggal_perkawinan ? ddmmyyyy(m.tanggal_perkawinan) : '-'],
    ['Kewarganegaraan', up(m.kewarganegaraan)],
    ['No. Paspor', up(m.paspor)],
    ['No. KITAP', up(m.kitap)],
    ['Ayah', up(m.ayah)],
    ['Ibu', up(m.ibu)],
  ];
}

function tables(a: Anggota[]): HTMLElement[] {
  const table = (testid: string, caption: string, head: string[], rows: string[][]) =>
    h('div', { class: 'kk-scroll', tabindex: '0', role: 'region', 'aria-label': caption },
      h('table', { class: 'kk-table', 'data-testid': testid },
        h('caption', { class: 'sr-only' }, caption),
        h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => (i === 1 && testid === 'kk-table-1'
          ? h('th', { scope: 'row' }, c)
          : h('td', null, c))))))));
  return [
    h('p', { class: 'hint' }, t('kk_scroll_hint')),
    table('kk-table-1', 'Tabel 1',
      ['No', 'Nama Lengkap', 'NIK', 'Jenis Kelamin', 'Tempat Lahir', 'Tanggal Lahir', 'Agama', 'Pendidikan', 'Jenis Pekerjaan', 'Golongan Darah'],
      a.map((m, i) => [String(i + 1), up(m.nama), m.nik, up(m.jenis_kelamin), up(m.tempat_lahir), ddmmyyyy(m.tanggal_lahir),
        up(m.agama), up(m.pendidikan), up(m.pekerjaan), up(m.golongan_darah)])),
    table('kk-table-2', 'Tabel 2',
      ['No', 'Status Perkawinan', 'Tanggal Perkawinan', 'Status Hubungan Dalam Keluarga', 'Kewarganegaraan', 'No. Paspor', 'No. KITAP', 'Ayah', 'Ibu'],
      a.map((m, i) => [String(i + 1), up(m.status_perkawinan), m.tanggal_perkawinan ? ddmmyyyy(m.tanggal_perkawinan) : '-',
        up(m.hubungan), up(m.kewarganegaraan), up(m.paspor), up(m.kitap), up(m.ayah), up(m.ibu)])),
  ];
}

export function renderKk(view: KkView): HTMLElement {
  const kk = view.kk;
  const a = kk.anggota;
  const members = h('div', { class: 'kk-members', 'data-testid': 'kk-members' },
    h('h3', { class: 'kk-members-title' }, t('kk_members')),
    a.map((m, i) => h('section', { class: 'kk-member', 'data-testid': `kk-member-${i + 1}`, 'aria-labelledby': `kk-m-${i + 1}` },
      h('h4', { id: `kk-m-${i + 1}` }, h('span', { class: 'kk-member-no' }, `${i + 1}. `), up(m.nama)),
      pairs(memberRows(m)))));
  const body = h('div', null, members);
  const toggle = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'btn-kk-tables', 'aria-pressed': 'false' }, t('kk_tables'));
  toggle.addEventListener('click', () => {
    const on = toggle.getAttribute('aria-pressed') !== 'true';
    toggle.setAttribute('aria-pressed', String(on));
    replace(body, on ? tables(a) : members);
  });
  return h('div', { class: 'kk-doc' },
    h('div', { class: 'kk-head' },
      h('h2', { class: 'kk-title' }, 'KARTU KELUARGA'),
      h('p', { class: 'kk-no' }, 'No. ', h('span', { 'data-testid': 'kk-nomor' }, kk.nomor_kk))),
    h('div', { class: 'kk-info' },
      pairs([
        ['Nama Kepala Keluarga', up(kk.kepala_keluarga), 'kk-kepala'],
        ['Alamat', up(kk.alamat)],
        ['RT/RW', up(kk.rt_rw)],
        ['Desa/Kelurahan', up(kk.kel_desa)],
      ]),
      pairs([
        ['Kecamatan', up(kk.kecamatan)],
        ['Kabupaten/Kota', up(kk.kabupaten_kota)],
        ['Kode Pos', up(kk.kode_pos)],
        ['Provinsi', up(kk.provinsi)],
      ])),
    h('div', { class: 'actions' }, toggle),
    body,
    h('p', { class: 'kk-foot' }, 'Dikeluarkan Tanggal: ', h('span', { 'data-testid': 'kk-tanggal' }, ddmmyyyy(kk.tanggal_terbit))),
  );
}
