//! The demo's HTML (no script: the request page refreshes itself while it waits).

use crate::Outcome;
use serde_json::Value;

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub fn qr_png(text: &str) -> Option<Vec<u8>> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let img = code
        .render::<image::Luma<u8>>()
        .min_dimensions(320, 320)
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .ok()?;
    Some(out.into_inner())
}

fn qr_svg(text: &str) -> String {
    qrcode::QrCode::new(text.as_bytes())
        .map(|c| {
            c.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(280, 280)
                .build()
        })
        .unwrap_or_default()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;color:#1a1a1a}\
h1{font-size:1.4rem}button{font-size:1rem;padding:.6rem 1rem;margin:.3rem 0;width:100%;text-align:left}\
.ok{color:#0a6b2d}.bad{color:#b00020}table{border-collapse:collapse}td{padding:.2rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}\
img.foto{max-width:8rem;border:1px solid #ccc}code{word-break:break-all;font-size:.8rem}";

pub fn home(name: &str, client_id: &str) -> String {
    let mut buttons = String::new();
    for p in crate::demo::Preset::ALL {
        buttons.push_str(&format!(
            "<form method=post action=/demo/start><input type=hidden name=preset value=\"{}\">\
             <button>{}</button></form>",
            p.id(),
            esc(p.title())
        ));
    }
    format!(
        "<!doctype html><html lang=id><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
         <title>Verifikasi identitas</title><style>{STYLE}</style>\
         <h1>Verifikasi identitas</h1><p>{}</p><p>Pilih data yang diminta:</p>{buttons}\
         <p><small>Client ID: <code>{}</code></small></p></html>",
        esc(name),
        esc(client_id)
    )
}

fn claims_table(claims: &serde_json::Map<String, Value>) -> String {
    let mut rows = String::new();
    for (k, v) in claims {
        if k == "foto" {
            continue;
        }
        let shown = match v {
            Value::String(s) => esc(s),
            other => esc(&other.to_string()),
        };
        rows.push_str(&format!("<tr><td>{}</td><td>{shown}</td></tr>", esc(k)));
    }
    format!("<table>{rows}</table>")
}

pub fn request(id: &str, link: &str, outcome: &Outcome) -> String {
    let body = match outcome {
        Outcome::Pending => format!(
            "<meta http-equiv=refresh content=2><p>Pindai kode QR ini dengan aplikasi IKD:</p>\
             <div id=qr>{}</div><p><a href=\"/api/requests/{}/qr.png\">QR (PNG)</a></p>\
             <p><code id=link>{}</code></p><p>Menunggu jawaban…</p>",
            qr_svg(link),
            esc(id),
            esc(link)
        ),
        Outcome::Valid { credentials } | Outcome::Revoked { credentials } => {
            let (cls, label) = if matches!(outcome, Outcome::Valid { .. }) {
                (
                    "ok",
                    "SAH: tanda tangan penerbit, pengikatan perangkat dan status diperiksa",
                )
            } else {
                ("bad", "DICABUT: kredensial ini sudah tidak berlaku")
            };
            let mut s = format!("<p class={cls} id=verdict><strong>{label}</strong></p>");
            for c in credentials {
                if let Some(Value::String(foto)) = c.claims.get("foto") {
                    s.push_str(&format!(
                        "<img class=foto alt=Foto src=\"data:image/jpeg;base64,{}\">",
                        esc(foto)
                    ));
                }
                s.push_str(&format!("<p>Penerbit: {}</p>", esc(&c.issuer)));
                s.push_str(&claims_table(&c.claims));
            }
            s
        }
        Outcome::Invalid { message, .. } => format!(
            "<p class=bad id=verdict><strong>TIDAK SAH</strong>: {}</p>",
            esc(message)
        ),
        Outcome::Declined { error, .. } => format!(
            "<p class=bad id=verdict><strong>Ditolak oleh pemilik</strong> ({})</p>",
            esc(error)
        ),
    };
    format!(
        "<!doctype html><html lang=id><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
         <title>Verifikasi identitas</title><style>{STYLE}</style><h1>Verifikasi identitas</h1>{body}\
         <p><a href=/>Permintaan baru</a></p></html>"
    )
}
