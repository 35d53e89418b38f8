//! The officer console: one server-rendered page (Bahasa Indonesia) with a little
//! inline JS over the officer API: login, the desk QR (refreshed every 30 s and after
//! each scan), the queue (polled), the resident's selfie beside the SIAK photo and
//! data, approve and reject.

use crate::state::SharedState;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};

/// The markers around the page's demo-only parts: in the HTML, and in the script.
const DEMO_MARKS: [(&str, &str); 2] = [("<!--demo-->", "<!--/demo-->"), ("/*demo*/", "/*/demo*/")];

/// `html` without what lies between `start` and `end` (markers included).
fn cut(html: &str, start: &str, end: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(start) {
        out.push_str(&rest[..i]);
        rest = match rest[i..].find(end) {
            Some(j) => &rest[i + j + end.len()..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

pub async fn home() -> Response {
    Redirect::to("/officer").into_response()
}

/// The console page; the desk QR's text copy and PNG download only in demo mode
/// (outside it a QR is shown, never handed out: it could be relayed).
pub async fn page(State(state): State<SharedState>) -> Response {
    let html = DEMO_MARKS
        .iter()
        .fold(CONSOLE_HTML.to_owned(), |html, (start, end)| {
            if state.demo {
                html.replace(start, "").replace(end, "")
            } else {
                cut(&html, start, end)
            }
        });
    let mut r = Html(html).into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    r
}

pub const CONSOLE_HTML: &str = r##"<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Konsol Petugas IKD</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f3f5f8; color: #1d2733; }
  header { background: #0b4f8a; color: #fff; padding: 12px 20px; display: flex; justify-content: space-between; align-items: center; }
  header h1 { font-size: 20px; margin: 0; }
  main { display: grid; grid-template-columns: 360px 1fr; gap: 16px; padding: 16px; }
  .card { background: #fff; border-radius: 8px; padding: 16px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
  #login { max-width: 360px; margin: 60px auto; }
  label { display: block; margin: 8px 0 4px; font-weight: 600; }
  input, textarea { width: 100%; box-sizing: border-box; padding: 8px; font-size: 15px; border: 1px solid #b8c2cc; border-radius: 4px; }
  button { padding: 8px 16px; font-size: 15px; border: 0; border-radius: 4px; cursor: pointer; background: #0b4f8a; color: #fff; }
  button.approve { background: #1b7f3b; } button.reject { background: #b3261e; }
  button.link { background: transparent; color: #fff; text-decoration: underline; }
  #qr-img { width: 100%; image-rendering: pixelated; border: 1px solid #ddd; }
  .muted { color: #5b6776; font-size: 13px; }
  ul#queue { list-style: none; padding: 0; margin: 0; }
  ul#queue li { padding: 8px; border-bottom: 1px solid #e3e7ec; cursor: pointer; }
  ul#queue li:hover, ul#queue li.sel { background: #e8f0fa; }
  .photos { display: flex; gap: 16px; }
  .photos figure { margin: 0; text-align: center; }
  .photos img { width: 210px; height: 280px; object-fit: cover; border: 1px solid #ccd; border-radius: 4px; }
  table { border-collapse: collapse; width: 100%; margin-top: 12px; font-size: 14px; }
  td { padding: 4px 8px; border-bottom: 1px solid #eef0f3; vertical-align: top; }
  td:first-child { color: #5b6776; width: 40%; }
  .err { color: #b3261e; min-height: 1.2em; }
  .face-ok { color: #1b7f3b; font-weight: 600; } .face-warn { color: #b3261e; font-weight: 600; }
  .actions { display: flex; gap: 8px; margin-top: 12px; align-items: flex-start; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<header><h1>Konsol Petugas IKD</h1><span id="who"></span></header>

<section id="login" class="card" hidden>
  <h2>Masuk Petugas</h2>
  <form id="login-form">
    <label for="username">Nama pengguna</label>
    <input id="username" name="username" autocomplete="username" required>
    <label for="password">Kata sandi</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <p class="err" id="login-err"></p>
    <button type="submit" id="login-btn">Masuk</button>
  </form>
</section>

<main id="desk" hidden>
  <div>
    <div class="card">
      <h2 id="desk-name">Loket</h2>
      <p class="muted">Minta pemohon memindai kode QR ini dengan aplikasi IKD. Kode berganti setiap 30 detik.</p>
      <img id="qr-img" alt="Kode QR loket">
      <p class="muted">Berlaku sampai <span id="qr-exp">-</span></p>
      <!--demo--><details id="qr-dev">
        <summary>Mode demo: teks dan gambar QR</summary>
        <label for="qr-text" class="muted">Teks QR (tempel di aplikasi: "Tempel teks")</label>
        <textarea id="qr-text" readonly rows="3" style="width:100%"></textarea>
        <p><button type="button" id="qr-copy">Salin teks</button>
        <a id="qr-dl" download="ikd-desk-qr.png" href="#">Unduh PNG</a></p>
      </details><!--/demo-->
    </div>
    <div class="card" style="margin-top:16px">
      <h2>Antrean</h2>
      <ul id="queue"></ul>
      <p class="muted" id="queue-empty">Belum ada pemohon.</p>
    </div>
    <div class="card" style="margin-top:16px">
      <h2>Tinjauan atur ulang PIN</h2>
      <p class="muted">Bandingkan swafoto baru dengan foto SIAK, atau periksa warga di loket dengan KTP-el. Kode dikirim setelah disetujui dan berlaku setelah masa tunggu.</p>
      <ul id="resets"></ul>
      <p class="muted" id="resets-empty">Tidak ada permintaan.</p>
      <div id="reset-body" hidden>
        <div class="photos">
          <figure><img id="r-selfie" alt="Swafoto baru"><figcaption>Swafoto baru</figcaption></figure>
          <figure><img id="r-siak" alt="Foto SIAK"><figcaption>Foto SIAK</figcaption></figure>
        </div>
        <p id="r-note" role="status"></p>
        <div class="actions">
          <button class="approve" id="reset-ok-selfie">Setujui (swafoto cocok)</button>
          <button class="approve" id="reset-ok-desk">Setujui (diperiksa di loket)</button>
        </div>
        <label for="reset-reason">Alasan penolakan</label>
        <textarea id="reset-reason" rows="2" maxlength="500"></textarea>
        <button class="reject" id="reset-no">Tolak</button>
        <p class="err" id="reset-err"></p>
      </div>
    </div>
    <div class="card" style="margin-top:16px">
      <h2>Blokir perangkat</h2>
      <form id="block-form">
        <label for="block-nik">NIK warga</label>
        <input id="block-nik" inputmode="numeric" maxlength="16" autocomplete="off" required>
        <label for="block-reason">Alasan pemblokiran</label>
        <textarea id="block-reason" rows="2" maxlength="500" required></textarea>
        <p class="err" id="block-err"></p>
        <button type="submit" class="reject" id="block-btn">Blokir semua perangkat</button>
      </form>
      <h3>Pemblokiran terakhir</h3>
      <table id="blocks"></table>
    </div>
    <div class="card" style="margin-top:16px" id="mail-card" hidden>
      <h2>Email kode aktivasi</h2>
      <ul id="mail-list" class="muted" role="status"></ul>
    </div>
  </div>
  <div class="card" id="detail">
    <p class="muted" id="detail-empty">Pilih pemohon dari antrean.</p>
    <div id="detail-body" hidden>
      <h2 id="d-nama"></h2>
      <div class="photos">
        <figure><img id="d-selfie" alt="Swafoto pemohon"><figcaption>Swafoto pemohon</figcaption></figure>
        <figure><img id="d-siak" alt="Foto SIAK"><figcaption>Foto SIAK</figcaption></figure>
      </div>
      <p id="d-face" role="status"></p>
      <table id="d-table"></table>
      <div class="actions">
        <div>
          <label for="confirm-code">Kode konfirmasi di ponsel pemohon</label>
          <input id="confirm-code" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="8" style="width:9em;text-transform:uppercase;letter-spacing:.2em">
          <p class="muted">Minta pemohon menunjukkan kode di aplikasinya, lalu ketik di sini.</p>
          <button class="approve" id="approve-btn">Setujui</button>
        </div>
        <div style="flex:1">
          <textarea id="reason" rows="2" placeholder="Alasan penolakan"></textarea>
          <button class="reject" id="reject-btn" style="margin-top:6px">Tolak</button>
        </div>
      </div>
      <p class="err" id="detail-err"></p>
    </div>
  </div>
</main>

<script>
"use strict";
const $ = (id) => document.getElementById(id);
let current = null, qrTimer = null, queueTimer = null, lastQueue = "";
const LABELS = [
  ["nik","NIK"],["nama","Nama"],["tempat_lahir","Tempat Lahir"],["tanggal_lahir","Tanggal Lahir"],
  ["jenis_kelamin","Jenis Kelamin"],["golongan_darah","Gol. Darah"],["alamat","Alamat"],["rt_rw","RT/RW"],
  ["kel_desa","Kel/Desa"],["kecamatan","Kecamatan"],["kabupaten_kota","Kabupaten/Kota"],["provinsi","Provinsi"],
  ["agama","Agama"],["status_perkawinan","Status Perkawinan"],["pekerjaan","Pekerjaan"],
  ["kewarganegaraan","Kewarganegaraan"],["kk","No. KK"],["hubungan","Hubungan"]
];
async function api(method, path, body) {
  const opt = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) { opt.headers["Content-Type"] = "application/json"; opt.body = JSON.stringify(body); }
  const r = await fetch(path, opt);
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (r.status === 401 && path !== "/officer/api/login") { showLogin(); }
  if (!r.ok) { throw new Error((data && data.message) || ("Galat " + r.status)); }
  return data;
}
function showLogin() {
  clearInterval(qrTimer); clearInterval(queueTimer);
  $("desk").hidden = true; $("login").hidden = false; $("who").textContent = "";
}
function showDesk(me) {
  $("login").hidden = true; $("desk").hidden = false;
  $("desk-name").textContent = me.desk_name;
  $("who").innerHTML = "";
  const span = document.createElement("span"); span.textContent = me.username + " \u00b7 ";
  const out = document.createElement("button"); out.className = "link"; out.textContent = "Keluar";
  out.onclick = async () => { await fetch("/officer/api/logout", {method: "POST"}); showLogin(); };
  $("who").append(span, out);
  refreshQr(); refreshQueue(); refreshBlocks(); refreshResets();
  qrTimer = setInterval(refreshQr, 30000);
  queueTimer = setInterval(() => { refreshQueue(); refreshResets(); }, 3000);
}
/*demo*/$("qr-copy").addEventListener("click", async () => {
  const t = $("qr-text");
  try { await navigator.clipboard.writeText(t.value); }
  catch (e) { t.select(); document.execCommand("copy"); }
});/*/demo*/
async function refreshQr() {
  try {
    const q = await api("GET", "/officer/api/desk/qr");
    $("qr-img").src = "/officer/api/desk/qr.png?t=" + Date.now();
    /*demo*/$("qr-text").value = q.text; $("qr-dl").href = $("qr-img").src;/*/demo*/
    $("qr-exp").textContent = new Date(q.expires_at).toLocaleTimeString("id-ID");
  } catch (e) { /* shown on next poll */ }
}
async function refreshQueue() {
  let items;
  try { items = await api("GET", "/officer/api/queue"); } catch (e) { return; }
  const key = JSON.stringify(items.map(i => i.enrollment_id));
  if (key !== lastQueue) { if (lastQueue !== "") refreshQr(); lastQueue = key; }
  const ul = $("queue"); ul.innerHTML = "";
  $("queue-empty").hidden = items.length > 0;
  for (const it of items) {
    const li = document.createElement("li");
    li.textContent = it.nama + " \u2014 " + it.nik;
    li.dataset.id = it.enrollment_id;
    if (it.enrollment_id === current) li.className = "sel";
    li.onclick = () => openDetail(it.enrollment_id);
    ul.append(li);
  }
}
let currentReset = null;
async function refreshResets() {
  let list;
  try { list = await api("GET", "/officer/api/resets"); } catch (e) { return; }
  const ul = $("resets"); ul.innerHTML = "";
  $("resets-empty").hidden = list.length > 0;
  for (const r of list) {
    const li = document.createElement("li");
    li.textContent = r.nama + " \u2014 " + r.nik + (r.has_selfie ? " (swafoto)" : " (datang ke loket)");
    li.style.cursor = "pointer";
    li.onclick = () => openReset(r.enrollment_id);
    ul.append(li);
  }
}
async function openReset(id) {
  currentReset = id; $("reset-err").textContent = "";
  let d;
  try { d = await api("GET", "/officer/api/resets/" + encodeURIComponent(id)); }
  catch (e) { $("reset-err").textContent = e.message; return; }
  $("reset-body").hidden = false;
  $("r-selfie").hidden = !d.selfie_jpeg;
  if (d.selfie_jpeg) $("r-selfie").src = "data:image/jpeg;base64," + d.selfie_jpeg;
  $("r-siak").src = "data:image/jpeg;base64," + d.siak_photo_jpeg;
  $("r-note").textContent = d.nama + " \u00b7 " + d.face_note + " \u00b7 PIN baru paling cepat " + new Date(d.usable_at).toLocaleString("id-ID");
  // Approving on the selfie waits for its face check (pinreset::approve); the note
  // updates when the check is in.
  $("reset-ok-selfie").disabled = !d.selfie_jpeg || d.face_check === "pending";
  if (d.face_check === "pending") setTimeout(() => { if (currentReset === id) openReset(id); }, 1000);
}
async function decideReset(path, body) {
  if (!currentReset) return;
  try {
    await api("POST", "/officer/api/resets/" + encodeURIComponent(currentReset) + path, body);
    currentReset = null; $("reset-body").hidden = true; $("reset-reason").value = "";
    refreshResets();
  } catch (e) { $("reset-err").textContent = e.message; }
}
$("reset-ok-selfie").onclick = () => decideReset("/approve", { method: "selfie" });
$("reset-ok-desk").onclick = () => decideReset("/approve", { method: "desk" });
$("reset-no").onclick = () => {
  const reason = $("reset-reason").value.trim();
  if (!reason) { $("reset-err").textContent = "Isi alasan penolakan."; return; }
  decideReset("/reject", { reason });
};
async function refreshBlocks() {
  let list;
  try { list = await api("GET", "/officer/api/blocks"); } catch (e) { return; }
  const t = $("blocks"); t.innerHTML = "";
  if (list.length === 0) {
    const tr = document.createElement("tr"); const td = document.createElement("td");
    td.textContent = "Belum ada."; tr.append(td); t.append(tr); return;
  }
  for (const b of list) {
    const tr = document.createElement("tr");
    const a = document.createElement("td");
    a.textContent = new Date(b.blocked_at).toLocaleString("id-ID") + " \u00b7 " + b.officer;
    const c = document.createElement("td");
    c.textContent = b.nik + " (" + b.devices + " perangkat): " + b.reason;
    tr.append(a, c); t.append(tr);
  }
}
$("block-form").onsubmit = async (ev) => {
  ev.preventDefault(); $("block-err").textContent = "";
  const nik = $("block-nik").value.trim(), reason = $("block-reason").value.trim();
  if (!reason) { $("block-err").textContent = "Isi alasan pemblokiran."; return; }
  try {
    const r = await api("POST", "/officer/api/devices/" + encodeURIComponent(nik) + "/block", { reason });
    $("block-err").textContent = r.blocked + " perangkat diblokir.";
    $("block-nik").value = ""; $("block-reason").value = "";
    refreshBlocks();
  } catch (e) { $("block-err").textContent = e.message; }
};
// The face check runs after submit (server/src/facework.rs): while it is pending the
// note says so and is fetched again until the verdict is in.
function showFace(d) {
  $("d-face").textContent = d.face_note;
  $("d-face").className = d.face_check === "one_face" ? "face-ok" : (d.face_check === "pending" ? "" : "face-warn");
  if (d.face_check === "pending") setTimeout(() => refreshFace(d.enrollment_id), 1000);
}
async function refreshFace(id) {
  if (id !== current) return;
  let d;
  try { d = await api("GET", "/officer/api/enrollments/" + encodeURIComponent(id)); } catch (e) { return; }
  if (id === current) showFace(d);
}
async function openDetail(id) {
  if (id !== current) $("confirm-code").value = "";
  current = id; $("detail-err").textContent = "";
  let d;
  try { d = await api("GET", "/officer/api/enrollments/" + encodeURIComponent(id)); }
  catch (e) { $("detail-err").textContent = e.message; return; }
  $("detail-empty").hidden = true; $("detail-body").hidden = false;
  $("d-nama").textContent = d.siak.nama;
  $("d-selfie").src = "data:image/jpeg;base64," + d.selfie_jpeg;
  showFace(d);
  $("d-siak").src = "data:image/jpeg;base64," + d.siak_photo_jpeg;
  const t = $("d-table"); t.innerHTML = "";
  const rows = LABELS.map(([k, l]) => [l, d.siak[k]]).concat([["Email", d.email], ["Ponsel", d.phone]]);
  for (const [l, v] of rows) {
    const tr = document.createElement("tr");
    const a = document.createElement("td"); a.textContent = l;
    const b = document.createElement("td"); b.textContent = v == null ? "-" : String(v);
    tr.append(a, b); t.append(tr);
  }
  refreshQueue();
}
async function decide(kind) {
  if (!current) return;
  $("detail-err").textContent = "";
  try {
    if (kind === "approve") {
      const code = $("confirm-code").value.trim();
      if (!code) { $("detail-err").textContent = "Isi kode konfirmasi yang tampil di ponsel pemohon."; return; }
      await api("POST", "/officer/api/enrollments/" + encodeURIComponent(current) + "/approve", { confirm_code: code });
      watchMail(current, $("d-nama").textContent);
    } else {
      const reason = $("reason").value.trim();
      if (!reason) { $("detail-err").textContent = "Isi alasan penolakan."; return; }
      await api("POST", "/officer/api/enrollments/" + encodeURIComponent(current) + "/reject", { reason });
    }
    current = null; $("reason").value = ""; $("confirm-code").value = "";
    $("detail-body").hidden = true; $("detail-empty").hidden = false;
    $("detail-empty").textContent = kind === "approve" ? "Disetujui. Status email kode aktivasi ada di bawah antrean." : "Permohonan ditolak.";
    refreshQueue();
  } catch (e) { $("detail-err").textContent = e.message; }
}
// Approved here: whether the code's mail went out (the outbox sends it), polled
// until sent or given up.
const mails = new Map();
let mailTimer = null;
function watchMail(id, nama) {
  mails.set(id, { nama, note: "Menunggu pengiriman", state: "pending" });
  renderMail();
  if (!mailTimer) mailTimer = setInterval(refreshMail, 3000);
  refreshMail();
}
async function refreshMail() {
  for (const [id, m] of mails) {
    if (m.state === "sent" || m.state === "failed") continue;
    try {
      const d = await api("GET", "/officer/api/enrollments/" + encodeURIComponent(id));
      if (d.mail) { m.state = d.mail.state; m.note = d.mail.note; }
    } catch (e) { /* next poll */ }
  }
  renderMail();
  if ([...mails.values()].every(m => m.state === "sent" || m.state === "failed")) {
    clearInterval(mailTimer); mailTimer = null;
  }
}
function renderMail() {
  const ul = $("mail-list"); ul.innerHTML = "";
  $("mail-card").hidden = mails.size === 0;
  for (const m of [...mails.values()].reverse().slice(0, 10)) {
    const li = document.createElement("li");
    li.textContent = m.nama + " \u2014 " + m.note;
    li.className = m.state === "sent" ? "face-ok" : (m.state === "pending" ? "" : "face-warn");
    ul.append(li);
  }
}
$("approve-btn").onclick = () => decide("approve");
$("reject-btn").onclick = () => decide("reject");
$("login-form").onsubmit = async (ev) => {
  ev.preventDefault(); $("login-err").textContent = "";
  try {
    const me = await api("POST", "/officer/api/login", { username: $("username").value, password: $("password").value });
    $("password").value = ""; showDesk(me);
  } catch (e) { $("login-err").textContent = e.message; }
};
(async () => {
  try { showDesk(await api("GET", "/officer/api/me")); } catch (e) { showLogin(); }
})();
</script>
</body>
</html>
"##;
