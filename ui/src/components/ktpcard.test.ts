import { describe, expect, it } from 'vitest';
import { berlakuText, KTP_LABELS, photoBackground, renderKtpCard, renderKtpLarge } from './ktpcard';
import { renderKk } from './kkview';
import { ddmmyyyy } from '../format';
import type { Ktp, KtpView } from '../types';

const ktp: Ktp = {
  nik: '1671014509900001', nama: 'SITI RAHMAWATI', tempat_lahir: 'PALEMBANG', tanggal_lahir: '1990-09-05',
  jenis_kelamin: 'PEREMPUAN', golongan_darah: 'O', alamat: 'JL. MERDEKA NO. 12', rt_rw: '004/002',
  kel_desa: '26 ILIR', kecamatan: 'ILIR BARAT DUA', kabupaten_kota: 'KOTA PALEMBANG', provinsi: 'SUMATERA SELATAN',
  agama: 'ISLAM', status_perkawinan: 'KAWIN', pekerjaan: 'GURU', kewarganegaraan: 'WNI',
  berlaku_hingga: 'SEUMUR HIDUP', foto: 'AAAA', tempat_terbit: 'KOTA PALEMBANG', tanggal_terbit: '2012-10-17',
};
const view = (over: Partial<Ktp> = {}, verified = true): KtpView => ({ ktp: { ...ktp, ...over }, verified, issuer: 'https://ikd.example' });
const tid = (root: HTMLElement, id: string) => root.querySelector(`[data-testid="${id}"]`) as HTMLElement | null;

describe('KTP-el card', () => {
  it('prints the labels in the order of the physical card', () => {
    const card = renderKtpCard(view());
    const labels = [...card.querySelectorAll('.ktp-fields dt')].map((d) => d.textContent);
    expect(labels).toEqual([...KTP_LABELS]);
    expect(labels[0]).toBe('NIK');
    expect(labels[labels.length - 1]).toBe('Berlaku Hingga');
  });

  it('has the two centred header lines', () => {
    const head = [...renderKtpCard(view()).querySelectorAll('.ktp-head > div')].map((d) => d.textContent);
    expect(head).toEqual(['PROVINSI SUMATERA SELATAN', 'KOTA PALEMBANG']);
  });

  it('formats dates DD-MM-YYYY and puts Gol. Darah on the Jenis Kelamin line', () => {
    const card = renderKtpCard(view({ berlaku_hingga: '2030-01-31' }));
    expect(tid(card, 'ktp-ttl')?.textContent).toBe('PALEMBANG, 05-09-1990');
    expect(tid(card, 'ktp-issue')?.textContent).toBe('KOTA PALEMBANG17-10-2012');
    expect(tid(card, 'ktp-berlaku')?.textContent).toBe('31-01-2030');
    const sexRow = card.querySelector('.ktp-row[data-label="Jenis Kelamin"] dd');
    expect(sexRow?.textContent).toBe('PEREMPUANGol. Darah : O');
    expect(tid(card, 'ktp-nik')?.textContent).toBe('1671014509900001');
  });

  it('values are printed in capitals', () => {
    const card = renderKtpCard(view({ nama: 'Siti Rahmawati', agama: 'Islam' }));
    expect(tid(card, 'ktp-nama')?.textContent).toBe('SITI RAHMAWATI');
    expect(card.querySelector('.ktp-row[data-label="Agama"] dd')?.textContent).toBe('ISLAM');
  });

  it('photo background: blue for an even birth year, red for an odd one', () => {
    expect(photoBackground('1990-09-05')).toBe('blue');
    expect(photoBackground('1991-09-05')).toBe('red');
    expect(renderKtpCard(view()).querySelector('.ktp-photo')?.getAttribute('data-bg')).toBe('blue');
    expect(renderKtpCard(view({ tanggal_lahir: '1987-03-12' })).querySelector('.ktp-photo')?.classList.contains('bg-red')).toBe(true);
    expect((tid(renderKtpCard(view()), 'ktp-photo') as HTMLImageElement).src).toBe('data:image/jpeg;base64,AAAA');
  });

  it('shows the Terverifikasi mark only when verified', () => {
    expect(tid(renderKtpCard(view()), 'ktp-verified')?.textContent).toContain('Terverifikasi');
    expect(tid(renderKtpCard(view({}, false)), 'ktp-verified')).toBeNull();
  });

  it('berlaku hingga keeps SEUMUR HIDUP', () => {
    expect(berlakuText('SEUMUR HIDUP')).toBe('SEUMUR HIDUP');
    expect(berlakuText('seumur hidup')).toBe('SEUMUR HIDUP');
    expect(ddmmyyyy('2012-10-17')).toBe('17-10-2012');
    expect(ddmmyyyy('2012-10-17T08:00:00Z')).toBe('17-10-2012');
  });
});

describe('KTP-el large text', () => {
  it('lists every field of the card as a label/value row', () => {
    const el = renderKtpLarge(view());
    const labels = [...el.querySelectorAll('.pair dt')].map((d) => d.textContent);
    for (const l of KTP_LABELS) expect(labels).toContain(l);
    const nik = [...el.querySelectorAll('.pair')].find((p) => p.querySelector('dt')?.textContent === 'NIK');
    expect(nik?.querySelector('dd')?.textContent).toBe(view().ktp.nik.toUpperCase());
  });
});

describe('Kartu Keluarga', () => {
  it('renders the header, one card per member headed by the name, the tables on request and the issue date', () => {
    const m = {
      nama: 'AHMAD FAUZI', nik: '1671011203870003', jenis_kelamin: 'LAKI-LAKI', tempat_lahir: 'PALEMBANG',
      tanggal_lahir: '1987-03-12', agama: 'ISLAM', pendidikan: 'S1', pekerjaan: 'WIRASWASTA', golongan_darah: 'A',
      status_perkawinan: 'KAWIN', tanggal_perkawinan: '2015-02-14', hubungan: 'KEPALA KELUARGA', kewarganegaraan: 'WNI',
      paspor: null, kitap: null, ayah: 'ZAINAL', ibu: 'HASNAH',
    };
    const el = renderKk({
      verified: true, issuer: 'x',
      kk: {
        nomor_kk: '1671012003150007', kepala_keluarga: 'AHMAD FAUZI', alamat: 'JL. MERDEKA', rt_rw: '004/002',
        kel_desa: '26 ILIR', kecamatan: 'ILIR BARAT DUA', kabupaten_kota: 'KOTA PALEMBANG', provinsi: 'SUMATERA SELATAN',
        kode_pos: '30136', tanggal_terbit: '2021-03-20', anggota: [m, { ...m, nama: 'SITI RAHMAWATI', hubungan: 'ISTRI' }],
      },
    });
    expect(el.querySelector('.kk-title')?.textContent).toBe('KARTU KELUARGA');
    expect(tid(el, 'kk-nomor')?.textContent).toBe('1671012003150007');
    expect(tid(el, 'kk-kepala')?.textContent).toBe('AHMAD FAUZI');
    expect(tid(el, 'kk-member-2')?.querySelector('h4')?.textContent).toBe('2. SITI RAHMAWATI');
    const pairs2 = [...(tid(el, 'kk-member-2')?.querySelectorAll('.pair') ?? [])].map((p) => [p.querySelector('dt')?.textContent, p.querySelector('dd')?.textContent]);
    expect(pairs2).toContainEqual(['Status Hubungan Dalam Keluarga', 'ISTRI']);
    expect(pairs2).toContainEqual(['No. Paspor', '-']);
    expect(el.querySelector('[data-testid="kk-table-1"]')).toBeNull();
    (tid(el, 'btn-kk-tables') as HTMLButtonElement).click();
    expect(tid(el, 'btn-kk-tables')?.getAttribute('aria-pressed')).toBe('true');
    expect(tid(el, 'kk-members')).toBeNull();
    const head1 = [...el.querySelectorAll('[data-testid="kk-table-1"] thead th')].map((t) => t.textContent);
    expect(head1).toEqual(['No', 'Nama Lengkap', 'NIK', 'Jenis Kelamin', 'Tempat Lahir', 'Tanggal Lahir', 'Agama', 'Pendidikan', 'Jenis Pekerjaan', 'Golongan Darah']);
    const head2 = [...el.querySelectorAll('[data-testid="kk-table-2"] thead th')].map((t) => t.textContent);
    expect(head2).toEqual(['No', 'Status Perkawinan', 'Tanggal Perkawinan', 'Status Hubungan Dalam Keluarga', 'Kewarganegaraan', 'No. Paspor', 'No. KITAP', 'Ayah', 'Ibu']);
    expect(el.querySelectorAll('[data-testid="kk-table-1"] tbody tr').length).toBe(2);
    expect(el.querySelector('[data-testid="kk-table-2"] tbody tr td:nth-child(3)')?.textContent).toBe('14-02-2015');
    expect(tid(el, 'kk-tanggal')?.textContent).toBe('20-03-2021');
  });
});
