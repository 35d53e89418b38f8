//! The 12 MP sample shared by the bench and `examples/sample_12mp.rs`.

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

/// The 4000×3000 sample: `photo_like` as a quality-90 baseline JPEG (jpeg-encoder).
pub fn sample_jpeg() -> Vec<u8> {
    let (w, h) = (4000u16, 3000u16);
    let rgb = photo_like(u32::from(w), u32::from(h));
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 90)
        .encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .expect("encoding a generated RGB buffer of the right size cannot fail");
    jpeg
}
