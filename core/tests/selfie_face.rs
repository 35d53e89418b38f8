//! `ikd selfie` on a bright, sharp picture without a face: not acceptable, with the
//! `no_face` verdict (the 12 MP gradients-and-noise picture, smaller here).
#![allow(clippy::unwrap_used)]

use image::{Rgb, RgbImage};
use std::process::Command;

fn gradients_and_noise(w: u32, h: u32) -> RgbImage {
    let mut seed = 0x9E37_79B9u32;
    RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed % 48) as i32 - 24;
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let c = |base: f32| (base as i32 + n).clamp(0, 255) as u8;
        Rgb([
            c(50.0 + 180.0 * fx),
            c(70.0 + 150.0 * fy),
            c(200.0 - 120.0 * fx * fy),
        ])
    })
}

fn jpeg_bytes(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(img)
        .unwrap();
    out
}

#[test]
fn cli_says_no_face_for_gradients_and_noise() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("noise.jpg");
    let output = dir.path().join("out.jpg");
    std::fs::write(&input, jpeg_bytes(&gradients_and_noise(1200, 1600))).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ikd"))
        .args(["selfie", input.to_str().unwrap(), output.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["acceptable"], false);
    assert_eq!(v["verdicts"], serde_json::json!([{ "kind": "no_face" }]));
}
