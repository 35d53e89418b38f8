//! Selfie pipeline: behaviour on real and generated pictures.
#![allow(clippy::unwrap_used)]

use ikd_selfie::{self as selfie, Limits, SelfieError, Verdict as SelfieVerdict, MIN_SHARPNESS};
use image::{DynamicImage, ImageFormat, RgbImage};
use proptest::prelude::*;

/// The public-domain astronaut portrait (512×512), shared with core's and the app's tests.
const ASTRONAUT: &[u8] = include_bytes!("../../core/tests/fixtures/astronaut.png");

fn astronaut() -> RgbImage {
    image::load_from_memory_with_format(ASTRONAUT, ImageFormat::Png)
        .unwrap()
        .to_rgb8()
}

fn png_bytes(img: &RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img.clone())
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn jpeg_bytes(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(
            img.as_raw(),
            img.width() as u16,
            img.height() as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .unwrap();
    out
}

fn map_pixels(img: &RgbImage, f: impl Fn(u8) -> u8) -> RgbImage {
    let mut out = img.clone();
    out.pixels_mut().for_each(|p| p.0 = p.0.map(&f));
    out
}

/// Decodes an output JPEG; returns (width, height, RGB pixels).
fn decode(jpeg: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut d = jpeg_decoder::Decoder::new(jpeg);
    let px = d.decode().unwrap();
    let info = d.info().unwrap();
    assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::RGB24);
    (u32::from(info.width), u32::from(info.height), px)
}

/// The markers of a JPEG's header segments, from SOI up to the first SOS.
fn header_markers(jpeg: &[u8]) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let mut pos = 2;
    let mut markers = Vec::new();
    loop {
        assert_eq!(jpeg[pos], 0xFF);
        let m = jpeg[pos + 1];
        markers.push(m);
        if m == 0xDA {
            return markers;
        }
        let len = usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
        pos += 2 + len;
    }
}

/// A JPEG of `img` with an EXIF APP1 segment (orientation tag only) right after SOI.
fn jpeg_with_orientation(img: &RgbImage, orientation: u16) -> Vec<u8> {
    let plain = jpeg_bytes(img, 90);
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes()); // IFD0 offset
    tiff.extend_from_slice(&1u16.to_le_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes()); // count
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&plain[2..]);
    out
}

/// A photo-like 4:3 picture: smooth gradients, some texture and deterministic noise.
fn photo_like(w: u32, h: u32) -> RgbImage {
    let mut seed = 0x9E37_79B9u32;
    RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = (seed % 24) as i32 - 12;
        let fx = x as f32 / w as f32;
        let fy = y as f32 / h as f32;
        let texture = (((x / 40 + y / 40) % 2) * 30) as i32;
        let c = |base: f32| (base as i32 + noise + texture).clamp(0, 255) as u8;
        image::Rgb([
            c(60.0 + 150.0 * fx),
            c(80.0 + 120.0 * fy),
            c(170.0 - 100.0 * fx * fy),
        ])
    })
}

fn is_red(px: &[u8]) -> bool {
    px[0] > 180 && px[1] < 80 && px[2] < 80
}

fn pixel(rgb: &[u8], w: u32, x: u32, y: u32) -> &[u8] {
    let i = ((y * w + x) * 3) as usize;
    &rgb[i..i + 3]
}

#[test]
fn astronaut_png_gives_clean_600x800_jpeg() {
    let p = selfie::process(ASTRONAUT).unwrap();
    assert_eq!((p.width, p.height), (600, 800));
    assert!(p.jpeg.len() <= 150_000, "{} bytes", p.jpeg.len());
    assert!(p.verdicts.is_empty(), "{:?}", p.verdicts);
    assert!(p.brightness > 60.0 && p.brightness < 200.0);
    assert!(p.sharpness > MIN_SHARPNESS * 2.0, "{}", p.sharpness);

    // No metadata: only tables and frame/scan headers before the scan.
    let markers = header_markers(&p.jpeg);
    assert!(
        markers
            .iter()
            .all(|m| !(0xE0..=0xEF).contains(m) && *m != 0xFE),
        "{markers:x?}"
    );
    assert!(!markers.contains(&0xE1), "APP1 (EXIF) present");
    assert_eq!(&p.jpeg[p.jpeg.len() - 2..], &[0xFF, 0xD9]);

    let (w, h, _) = decode(&p.jpeg);
    assert_eq!((w, h), (600, 800));
}

#[test]
fn astronaut_as_jpeg_works_too() {
    let p = selfie::process(&jpeg_bytes(&astronaut(), 90)).unwrap();
    assert_eq!((p.width, p.height), (600, 800));
    assert!(p.verdicts.is_empty(), "{:?}", p.verdicts);
}

#[test]
fn dark_picture_is_too_dark() {
    let dark = map_pixels(&astronaut(), |v| v / 4);
    let p = selfie::process(&png_bytes(&dark)).unwrap();
    assert!(p.brightness < 40.0, "{}", p.brightness);
    assert!(p
        .verdicts
        .iter()
        .any(|v| matches!(v, SelfieVerdict::TooDark { brightness, min } if *brightness == p.brightness && *min == 60.0)));
}

#[test]
fn bright_picture_is_too_bright() {
    let bright = map_pixels(&astronaut(), |v| 200 + v / 5);
    let p = selfie::process(&png_bytes(&bright)).unwrap();
    assert!(p.brightness > 200.0, "{}", p.brightness);
    assert!(p
        .verdicts
        .iter()
        .any(|v| matches!(v, SelfieVerdict::TooBright { max, .. } if *max == 200.0)));
}

#[test]
fn blurred_picture_is_blurry() {
    let blurred = image::imageops::blur(&astronaut(), 3.0);
    let p = selfie::process(&png_bytes(&blurred)).unwrap();
    assert_eq!(
        p.verdicts,
        vec![SelfieVerdict::Blurry {
            sharpness: p.sharpness,
            min: MIN_SHARPNESS
        }]
    );
    assert!(p.sharpness < MIN_SHARPNESS / 4.0, "{}", p.sharpness);
}

/// Sharpness falls steadily with blur; the threshold sits between the sharp
/// portrait and a mild (σ = 1) blur of it.
#[test]
fn blur_calibration() {
    let img = astronaut();
    let mut last = f32::INFINITY;
    for sigma in [0.0f32, 0.7, 1.0, 2.0, 3.0] {
        let b = if sigma == 0.0 {
            img.clone()
        } else {
            image::imageops::blur(&img, sigma)
        };
        let s = selfie::process(&png_bytes(&b)).unwrap().sharpness;
        println!("sigma {sigma}: sharpness {s}");
        assert!(s < last);
        last = s;
        if sigma == 0.0 {
            assert!(s > MIN_SHARPNESS * 4.0);
        }
        if sigma >= 1.0 {
            assert!(s < MIN_SHARPNESS);
        }
    }
}

#[test]
fn exif_orientation_is_applied() {
    // 800×600 landscape, top-left quadrant red, the rest grey.
    let img = RgbImage::from_fn(800, 600, |x, y| {
        if x < 400 && y < 300 {
            image::Rgb([230, 20, 20])
        } else {
            image::Rgb([120, 120, 120])
        }
    });
    // Where the red quadrant must be in the upright 600×800 output: sample points
    // (left-top, right-top, left-bottom, right-bottom).
    let probes = [(150, 200), (450, 200), (150, 600), (450, 600)];
    let cases: [(Option<u16>, [bool; 4]); 5] = [
        // No EXIF: centre 450×600 crop; red on the left half of the top.
        (None, [true, false, false, false]),
        (Some(1), [true, false, false, false]),
        // 180°: red at the bottom right.
        (Some(3), [false, false, false, true]),
        // 90° clockwise: stored top-left goes to the top right.
        (Some(6), [false, true, false, false]),
        // 90° anticlockwise: stored top-left goes to the bottom left.
        (Some(8), [false, false, true, false]),
    ];
    for (orientation, expect) in cases {
        let bytes = match orientation {
            None => jpeg_bytes(&img, 90),
            Some(o) => jpeg_with_orientation(&img, o),
        };
        let p = selfie::process(&bytes).unwrap();
        let (w, h, rgb) = decode(&p.jpeg);
        assert_eq!((w, h), (600, 800));
        assert!(!header_markers(&p.jpeg).contains(&0xE1));
        let got = probes.map(|(x, y)| is_red(pixel(&rgb, w, x, y)));
        assert_eq!(got, expect, "orientation {orientation:?}");
    }
}

#[test]
fn oversized_input_rejected_before_decoding() {
    // A valid JPEG start followed by 25 MB of junk: refused on size alone.
    let mut big = jpeg_bytes(&astronaut(), 90);
    big.resize(25_000_001, 0);
    let err = selfie::process(&big).unwrap_err();
    assert_eq!(err, SelfieError::TooLarge { bytes: 25_000_001 });
}

#[test]
fn too_many_pixels_rejected_before_decoding() {
    // JPEG: patch the SOF header of a real JPEG to claim 10000×10000.
    let mut jpeg = jpeg_bytes(&astronaut(), 90);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 7].copy_from_slice(&10000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&10000u16.to_be_bytes());
    let err = selfie::process(&jpeg).unwrap_err();
    assert_eq!(err, SelfieError::TooManyPixels { w: 10000, h: 10000 });
    // Header only, no scan at all: still refused as too many pixels, not truncated.
    assert_eq!(
        selfie::process(&jpeg[..sof + 20]).unwrap_err(),
        SelfieError::TooManyPixels { w: 10000, h: 10000 }
    );

    // PNG: patch IHDR (the CRC is then wrong too; we never get that far).
    let mut png = ASTRONAUT.to_vec();
    png[16..20].copy_from_slice(&10000u32.to_be_bytes());
    png[20..24].copy_from_slice(&10000u32.to_be_bytes());
    assert_eq!(
        selfie::process(&png).unwrap_err(),
        SelfieError::TooManyPixels { w: 10000, h: 10000 }
    );

    // The limit is on pixels, not only on one side.
    let limits = Limits {
        max_pixels: 512 * 512 - 1,
        ..Limits::default()
    };
    assert_eq!(
        selfie::process_with(ASTRONAUT, &limits).unwrap_err(),
        SelfieError::TooManyPixels { w: 512, h: 512 }
    );
}

/// Our EOI walk is the first guard against a cut upload; the decoder is the second.
/// A cut JPEG with an end marker glued on passes the walk, and libjpeg-turbo would
/// fill the missing rows with grey ("Premature end of data segment" is only a
/// warning in libjpeg): the pipeline must refuse it instead.
#[test]
fn cut_jpeg_with_an_end_marker_is_refused_by_the_decoder() {
    for jpeg in [
        jpeg_bytes(&astronaut(), 90),
        jpeg_bytes(&photo_like(1600, 1200), 90),
    ] {
        let n = jpeg.len();
        for cut in [n / 3, n / 2, n - 100] {
            let mut glued = jpeg[..cut].to_vec();
            glued.extend_from_slice(&[0xFF, 0xD9]);
            let err = selfie::process(&glued).unwrap_err();
            assert!(
                matches!(err, SelfieError::Truncated | SelfieError::Corrupt(_)),
                "cut at {cut} of {n}: {err:?}"
            );
        }
    }
}

#[test]
fn truncated_jpeg_is_refused() {
    let jpeg = jpeg_bytes(&astronaut(), 90);
    assert!(selfie::process(&jpeg).is_ok());
    let n = jpeg.len();
    for cut in [3, 20, 200, n / 3, n / 2, n - 100, n - 2, n - 1] {
        let err = selfie::process(&jpeg[..cut]).unwrap_err();
        assert_eq!(err, SelfieError::Truncated, "cut at {cut} of {n}");
    }
    // Trailing bytes after EOI (camera trailers) are fine.
    let mut trailer = jpeg.clone();
    trailer.extend_from_slice(b"trailer");
    assert!(selfie::process(&trailer).is_ok());
}

#[test]
fn truncated_png_is_refused() {
    let n = ASTRONAUT.len();
    for cut in [4, 8, 20, 40, n / 3, n / 2, n - 13, n - 1] {
        let err = selfie::process(&ASTRONAUT[..cut]).unwrap_err();
        assert_eq!(err, SelfieError::Truncated, "cut at {cut} of {n}");
    }
}

#[test]
fn corrupt_and_unknown_inputs_get_typed_errors() {
    assert_eq!(
        selfie::process(b"GIF89a....").unwrap_err(),
        SelfieError::UnsupportedFormat
    );
    assert_eq!(
        selfie::process(b"").unwrap_err(),
        SelfieError::UnsupportedFormat
    );
    // Garbage between JPEG markers.
    let mut jpeg = jpeg_bytes(&astronaut(), 90);
    jpeg[2] = 0x12;
    assert!(matches!(
        selfie::process(&jpeg).unwrap_err(),
        SelfieError::Corrupt(_)
    ));
    // Scrambled PNG pixel data (the CRC check fails).
    let mut png = ASTRONAUT.to_vec();
    let mid = png.len() / 2;
    png[mid..mid + 64].fill(0x55);
    let err = selfie::process(&png).unwrap_err();
    assert!(matches!(err, SelfieError::Corrupt(_)), "{err:?}");
}

#[test]
fn large_photo_4000x3000_gives_600x800() {
    let photo = photo_like(4000, 3000);
    let jpeg = jpeg_bytes(&photo, 90);
    let p = selfie::process(&jpeg).unwrap();
    assert_eq!((p.width, p.height), (600, 800));
    assert!(p.jpeg.len() <= 150_000);
    let (w, h, _) = decode(&p.jpeg);
    assert_eq!((w, h), (600, 800));
    // Handed over (`ikd selfie`): the same result, bit for bit.
    assert_eq!(selfie::process_vec(jpeg.clone()).unwrap(), p);
    // Portrait phone photo: stored landscape, EXIF orientation 6.
    let portrait = jpeg_with_orientation(&photo, 6);
    let p = selfie::process(&portrait).unwrap();
    assert_eq!((p.width, p.height), (600, 800));
    assert_eq!(selfie::process_vec(portrait).unwrap(), p);
    // Damaged files get the same outcome handed over; one with a stray marker in the
    // data is refused.
    for (at, junk) in [(3, &[0xA5u8; 16][..]), (2, &[0xFF, 0xD3][..])] {
        let mut bad = jpeg.clone();
        let at = bad.len() * at / 4;
        bad[at..at + junk.len()].copy_from_slice(junk);
        let shared = selfie::process(&bad);
        assert_eq!(selfie::process_vec(bad), shared);
        if junk.len() == 2 {
            assert!(shared.is_err(), "{shared:?}");
        }
    }
    let cut = jpeg[..jpeg.len() * 2 / 3].to_vec();
    assert_eq!(
        selfie::process_vec(cut).unwrap_err(),
        SelfieError::Truncated
    );
}

#[test]
fn noisy_picture_still_fits_150kb() {
    // Pure noise compresses terribly: the encoder must step quality down.
    let mut seed = 7u32;
    let noise = RgbImage::from_fn(600, 800, |_, _| {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let b = seed.to_le_bytes();
        image::Rgb([b[1], b[2], b[3]])
    });
    let p = selfie::process(&png_bytes(&noise)).unwrap();
    assert!(p.jpeg.len() <= 150_000, "{}", p.jpeg.len());
}

fn small_jpeg() -> Vec<u8> {
    jpeg_bytes(&image::imageops::thumbnail(&astronaut(), 48, 64), 80)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        prop_assert!(selfie::process(&bytes).is_err());
    }

    #[test]
    fn random_bytes_with_magic_never_panic(
        png in any::<bool>(),
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let mut input = if png {
            vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]
        } else {
            vec![0xFF, 0xD8]
        };
        input.extend_from_slice(&bytes);
        prop_assert!(selfie::process(&input).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Mutated real JPEGs: any result is fine, a panic is not.
    #[test]
    fn mutated_jpeg_never_panics(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut jpeg = small_jpeg();
        for (i, b) in edits {
            let at = i.index(jpeg.len());
            jpeg[at] = b;
        }
        let _ = selfie::process(&jpeg);
    }
}
