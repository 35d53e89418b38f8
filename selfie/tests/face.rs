//! The selfie pipeline's face check, end to end from image bytes: the astronaut
//! portrait passes; a bright, sharp picture without a face, two faces, a face too
//! small and a face off centre each get their verdict.
#![allow(clippy::unwrap_used)]

use ikd_selfie as selfie;
use ikd_selfie::Verdict as SelfieVerdict;
use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

const ASTRONAUT: &[u8] = include_bytes!("../../core/tests/fixtures/astronaut.png");

/// The astronaut's 3:4 centre crop (384×512), the part the pipeline keeps.
fn portrait() -> RgbImage {
    let img = image::load_from_memory_with_format(ASTRONAUT, ImageFormat::Png)
        .unwrap()
        .to_rgb8();
    imageops::crop_imm(&img, 64, 0, 384, 512).to_image()
}

fn png_bytes(img: &RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img.clone())
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn jpeg_bytes(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(
            img.as_raw(),
            img.width() as u16,
            img.height() as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .unwrap();
    out
}

/// A `w × h` mid-grey frame with the parts pasted at their offsets (clipped).
fn frame(w: u32, h: u32, parts: &[(&RgbImage, i64, i64)]) -> RgbImage {
    let mut canvas = RgbImage::from_pixel(w, h, Rgb([128, 128, 128]));
    for (img, x, y) in parts {
        imageops::replace(&mut canvas, *img, *x, *y);
    }
    canvas
}

fn scaled(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    imageops::resize(img, w, h, FilterType::Triangle)
}

/// Colour gradients and noise, bright and sharp: what the issue fed `ikd selfie`.
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

fn face_verdicts(v: &[SelfieVerdict]) -> Vec<SelfieVerdict> {
    v.iter()
        .copied()
        .filter(|v| {
            !matches!(
                v,
                SelfieVerdict::TooDark { .. }
                    | SelfieVerdict::TooBright { .. }
                    | SelfieVerdict::Blurry { .. }
            )
        })
        .collect()
}

#[test]
fn the_astronaut_has_one_face() {
    let p = selfie::process(ASTRONAUT).unwrap();
    assert!(p.verdicts.is_empty(), "{:?}", p.verdicts);
}

#[test]
fn gradients_and_noise_have_no_face() {
    // A 12 MP camera-sized picture, as in the issue.
    let p = selfie::process(&jpeg_bytes(&gradients_and_noise(3000, 4000))).unwrap();
    assert!(
        p.brightness > 60.0 && p.brightness < 200.0,
        "{}",
        p.brightness
    );
    assert!(p.sharpness > selfie::MIN_SHARPNESS, "{}", p.sharpness);
    assert_eq!(p.verdicts, vec![SelfieVerdict::NoFace]);
}

#[test]
fn two_faces_are_several_faces() {
    // Two copies side by side, each cropped around its face (about x 106–201,
    // y 69–164 of the crop) and shown at 300×400.
    let around = imageops::crop_imm(&portrait(), 53, 16, 200, 267).to_image();
    let half = scaled(&around, 300, 400);
    let two = frame(600, 800, &[(&half, 0, 200), (&half, 300, 200)]);
    let p = selfie::process(&png_bytes(&two)).unwrap();
    assert_eq!(
        face_verdicts(&p.verdicts),
        vec![SelfieVerdict::SeveralFaces { count: 2 }]
    );
}

#[test]
fn a_portrait_in_the_corner_of_a_large_frame_is_too_small() {
    // 1200×1600 with the portrait at 810×1080 in the top-left corner: after the
    // pipeline's resize to 600×800 the face is about 100 px of 600.
    let img = frame(1200, 1600, &[(&scaled(&portrait(), 810, 1080), 0, 0)]);
    let p = selfie::process(&jpeg_bytes(&img)).unwrap();
    let v = face_verdicts(&p.verdicts);
    let [SelfieVerdict::FaceTooSmall { ratio, min }] = v[..] else {
        panic!("{:?}", p.verdicts);
    };
    assert!(ratio < min && ratio > 0.1, "{ratio}");
}

#[test]
fn a_face_at_the_edge_is_off_centre() {
    let img = frame(600, 800, &[(&scaled(&portrait(), 540, 720), 330, 40)]);
    let p = selfie::process(&png_bytes(&img)).unwrap();
    let v = face_verdicts(&p.verdicts);
    let [SelfieVerdict::FaceOffCentre { dx, .. }] = v[..] else {
        panic!("{:?}", p.verdicts);
    };
    assert!(dx > 0.25, "{dx}");
}
