//! Selfie pipeline speed on a 12 MP (4000×3000) photo-like JPEG, next to a plain
//! full-size decode with the same decoder.
//!
//! `cargo bench -p ikd-selfie --bench selfie -- --warm-up-time 1 --measurement-time 5 --sample-size 10`
//!
//! The bench also writes the sample to `target/selfie_4000x3000.jpg` so it can be
//! compared with libjpeg-turbo: `hyperfine 'djpeg -outfile /dev/null target/selfie_4000x3000.jpg'`.

use criterion::{criterion_group, criterion_main, Criterion};

/// Photo-like 4:3 picture: smooth gradients, a soft texture and noise, so it
/// compresses like a photo (not like a flat test card).
fn photo_like(w: u32, h: u32) -> Vec<u8> {
    let mut seed = 0x9E37_79B9u32;
    let mut out = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let noise = (seed % 24) as i32 - 12;
            let fx = x as f32 / w as f32;
            let fy = y as f32 / h as f32;
            let texture = (((x / 40 + y / 40) % 2) * 30) as i32;
            let c = |base: f32| (base as i32 + noise + texture).clamp(0, 255) as u8;
            out.extend_from_slice(&[
                c(60.0 + 150.0 * fx),
                c(80.0 + 120.0 * fy),
                c(170.0 - 100.0 * fx * fy),
            ]);
        }
    }
    out
}

fn sample_jpeg() -> Vec<u8> {
    let (w, h) = (4000u16, 3000u16);
    let rgb = photo_like(u32::from(w), u32::from(h));
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 90)
        .encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .expect("encoding a generated RGB buffer of the right size cannot fail");
    jpeg
}

/// The same JPEG with an EXIF orientation 6 segment: how phones store a portrait.
fn with_orientation_6(jpeg: &[u8]) -> Vec<u8> {
    let mut payload = b"Exif\0\0II*\0".to_vec();
    payload.extend_from_slice(&8u32.to_le_bytes());
    payload.extend_from_slice(&1u16.to_le_bytes());
    payload.extend_from_slice(&0x0112u16.to_le_bytes());
    payload.extend_from_slice(&3u16.to_le_bytes());
    payload.extend_from_slice(&1u32.to_le_bytes());
    payload.extend_from_slice(&6u16.to_le_bytes());
    payload.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn bench(c: &mut Criterion) {
    let jpeg = sample_jpeg();
    let portrait = with_orientation_6(&jpeg);
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/selfie_4000x3000.jpg");
    if std::fs::write(&path, &jpeg).is_ok() {
        eprintln!("sample: {} ({} bytes)", path.display(), jpeg.len());
    }

    let mut g = c.benchmark_group("selfie_4000x3000");
    g.bench_function("pipeline", |b| {
        b.iter(|| ikd_selfie::process(std::hint::black_box(&jpeg)).expect("valid sample"))
    });
    g.bench_function("pipeline_exif6", |b| {
        b.iter(|| ikd_selfie::process(std::hint::black_box(&portrait)).expect("valid sample"))
    });
    g.bench_function("full_decode", |b| {
        b.iter(|| {
            jpeg_decoder::Decoder::new(std::hint::black_box(&jpeg[..]))
                .decode()
                .expect("valid sample")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
