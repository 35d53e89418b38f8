//! Writes the committed seed corpora (`corpus/<target>/seed-*`) and, when missing, the
//! fixed fuzzing keys (`fixtures/*.pk8`). Run from `fuzz/`:
//! `cargo run --example gen_seeds` (done by `scripts/fuzz --seeds`).
#![allow(clippy::unwrap_used)]

use ikd_core::jose::EcKeyPair;
use ikd_core::secret::SecretBytes;
use ikd_core::wire::{KK_VCT, KTP_VCT};
use image::{ImageBuffer, ImageFormat, Luma, LumaA, Rgb, Rgba};
use std::io::Cursor;
use std::path::Path;

fn key(path: &str) -> EcKeyPair {
    if let Ok(b) = std::fs::read(path) {
        if let Ok(k) = EcKeyPair::from_pkcs8(SecretBytes::new(b)) {
            return k;
        }
    }
    let k = EcKeyPair::generate().unwrap();
    std::fs::write(path, k.pkcs8().expose()).unwrap();
    eprintln!("wrote a new key to {path}: rebuild the targets");
    k
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("corpus").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
}

fn nik_seeds() {
    let items = [
        ("nik", "1671014509900001"),
        ("nik-male", "1671010508900002"),
        ("nik-sep", "16.7101.450990.0001"),
        ("nik-dash", "1671-0145-0990-0001"),
        ("nik-space", " 1671 0145 0990 0001 "),
        ("nik-serial0", "1671014509900000"),
        ("nik-badday", "1671013209900001"),
        ("nik-feb29", "3171016902000001"),
        ("nik-province", "9971014509900001"),
        ("nik-short", "167101450990"),
        ("nik-letter", "16710145O9900001"),
        ("nik-fullwidth", "１６７１０１４５０９９００００１"),
        ("kk", "1671010101010001"),
        ("email", "Siti.Aminah@Example.CO.ID"),
        ("email-bad", "siti@@example..com"),
        ("email-idn", "siti@bücher.example"),
        ("phone-08", "0812-3456-7890"),
        ("phone-62", "+62 812 3456 7890"),
        ("phone-628", "6281234567890"),
        ("phone-bad", "+1 (555) 010-9999"),
        ("empty", ""),
    ];
    for (n, s) in items {
        write("nik", n, s.as_bytes());
    }
}

fn sdjwt_seeds(issuer: &EcKeyPair, holder: &EcKeyPair) {
    let hj = holder.public_jwk();
    let ktp = ikd_fuzz::issue_with(issuer, &hj, KTP_VCT, ikd_fuzz::ktp_claims(), &[]).unwrap();
    let kk =
        ikd_fuzz::issue_with(issuer, &hj, KK_VCT, ikd_fuzz::kk_claims(), &["anggota"]).unwrap();
    write("sdjwt", "ktp", ktp.as_bytes());
    write("sdjwt", "kk", kk.as_bytes());
    let some = ikd_core::sdjwt::present(&ktp, |n| n == "nama" || n == "nik").unwrap();
    write("sdjwt", "ktp-presented", some.as_bytes());
    write(
        "sdjwt",
        "kk-none",
        format!("{}~", kk.split('~').next().unwrap()).as_bytes(),
    );
    let kb = holder
        .sign_jws(
            serde_json::json!({"typ": "kb+jwt"}),
            serde_json::json!({"nonce": "n", "aud": "x", "iat": 1}),
        )
        .unwrap();
    write("sdjwt", "ktp-kb", format!("{ktp}{kb}").as_bytes());
    write("sdjwt", "tilde", b"~~~");

    // Structure-aware seeds: mode byte + body.
    write("sdjwt_struct", "edit-ktp", &[0]);
    write("sdjwt_struct", "edit-kk", &[1, 0, 10, 0, b'x']);
    let payload = kk.split('.').nth(1).unwrap();
    let payload = ikd_core::jose::b64u_decode(payload).unwrap();
    let mut m2 = vec![2u8];
    m2.extend_from_slice(&payload);
    write("sdjwt_struct", "payload-kk", &m2);
    let mut m3 = vec![3u8];
    m3.extend_from_slice(br#"["c2FsdA","nama","SITI"]"#);
    m3.push(0);
    m3.extend_from_slice(br#"["c2FsdA",{"nik":"1671014509900001","_sd":[]}]"#);
    m3.push(0);
    m3.extend_from_slice(br#"["c2FsdA","alamat",["a",{"b":null}]]"#);
    write("sdjwt_struct", "disclosures", &m3);
    let mut m4 = vec![4u8];
    m4.extend_from_slice(br#"{"typ":"vc+sd-jwt","alg":"ES256","kid":"k1"}"#);
    write("sdjwt_struct", "header", &m4);
}

fn encode<P, C>(img: &ImageBuffer<P, C>, fmt: ImageFormat) -> Vec<u8>
where
    P: image::Pixel + image::PixelWithColorType,
    [P::Subpixel]: image::EncodableLayout,
    C: std::ops::Deref<Target = [P::Subpixel]>,
{
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, fmt).unwrap();
    out.into_inner()
}

/// A JPEG with an EXIF APP1 segment carrying `orientation`.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let len = u16::try_from(app1.len() + 2).unwrap();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn selfie_seeds() {
    let rgb = ImageBuffer::from_fn(30, 40, |x, y| {
        Rgb([(x * 8) as u8, (y * 6) as u8, ((x + y) * 3) as u8])
    });
    let jpeg = encode(&rgb, ImageFormat::Jpeg);
    write("selfie", "rgb.jpg", &jpeg);
    write("selfie", "rgb-exif6.jpg", &with_exif_orientation(&jpeg, 6));
    write("selfie", "rgb-exif3.jpg", &with_exif_orientation(&jpeg, 3));
    write("selfie", "rgb.png", &encode(&rgb, ImageFormat::Png));
    let gray = ImageBuffer::from_fn(17, 9, |x, y| Luma([((x * y) % 256) as u8]));
    write("selfie", "gray.jpg", &encode(&gray, ImageFormat::Jpeg));
    write("selfie", "gray.png", &encode(&gray, ImageFormat::Png));
    let ga = ImageBuffer::from_fn(8, 8, |x, y| LumaA([(x * 30) as u8, (y * 30) as u8]));
    write("selfie", "gray-alpha.png", &encode(&ga, ImageFormat::Png));
    let rgba = ImageBuffer::from_fn(12, 16, |x, y| {
        Rgba([(x * 20) as u8, (y * 15) as u8, 90, 200])
    });
    write("selfie", "rgba.png", &encode(&rgba, ImageFormat::Png));
    let rgb16: ImageBuffer<Rgb<u16>, Vec<u16>> = ImageBuffer::from_fn(6, 5, |x, y| {
        Rgb([(x * 9000) as u16, (y * 9000) as u16, 1234])
    });
    write("selfie", "rgb16.png", &encode(&rgb16, ImageFormat::Png));
    let one = ImageBuffer::from_fn(1, 1, |_, _| Rgb([128u8, 128, 128]));
    write("selfie", "1x1.jpg", &encode(&one, ImageFormat::Jpeg));
    write("selfie", "1x1.png", &encode(&one, ImageFormat::Png));
    write("selfie", "truncated.jpg", &jpeg[..jpeg.len() / 2]);
    write("selfie", "soi-only.jpg", &[0xFF, 0xD8, 0xFF]);
}

fn main() {
    let issuer = key("fixtures/issuer.pk8");
    let holder = key("fixtures/holder.pk8");
    nik_seeds();
    sdjwt_seeds(&issuer, &holder);
    selfie_seeds();
    eprintln!("seeds written");
}
