//! Selfie pipeline: camera frame or file (JPEG/PNG bytes) → upright, centre-cropped
//! 3:4, 600×800, metadata-free JPEG of at most 150 KB, with brightness and
//! sharpness checks and a face check.
//!
//! Order of work, cheapest guard first:
//! 1. refuse more than 25 MB of bytes;
//! 2. sniff the format (JPEG/PNG) and walk the container without decoding: read
//!    the frame size from the JPEG SOF / PNG IHDR header and refuse more than 50
//!    megapixels (decompression bombs), and refuse data that ends before the
//!    JPEG EOI marker / PNG IEND chunk (truncated uploads are never grey-padded);
//! 3. decode — JPEG with libjpeg-turbo at the smallest DCT scale M/8 (1/8 … 1)
//!    that still covers the output, so a 12 MP photo is never decoded at full
//!    size; any libjpeg warning (corrupt or missing data) is an error, never grey.
//!    A baseline JPEG is decoded on two threads (`split.rs`), since Huffman decoding
//!    is sequential and most of the work: one decodes the head (the top two thirds, from the
//!    whole file with its frame height cut) at once, the other skims the Huffman data
//!    down to a row where it can be cut and decodes the rest;
//! 4. crop the centre to 3:4 and resize to 600×800 in one streaming pass (half the
//!    rows on each of two threads), then apply the EXIF orientation (1–8) to the
//!    small picture;
//! 5. measure mean luma and the variance of the Laplacian, and look for one frontal
//!    face (the `ikd_face` portrait rules: one, large enough, roughly centred; on the
//!    face check's own thread, `faceworker.rs`, beside step 6); give verdicts;
//! 6. encode JPEG (libjpeg-turbo) without any metadata, stepping quality down from
//!    85 to fit.
//!
//! A crate of its own (`ikd-selfie`) so the release profile can build this hot path
//! at opt-level 3 while the rest of the app stays size-optimised (root `Cargo.toml`).
//! No UI types here: `ikd-core` maps [`Processed`] to its `SelfieView` and
//! [`SelfieError`] to its `UiError`.
#![forbid(unsafe_code)]

mod decode;
mod encode;
mod faceworker;
mod header;
mod measure;
mod resample;
mod split;

use header::Format;
use resample::{crop_resize, orient, swaps_axes, Raster};

/// Output width in pixels.
pub const OUT_WIDTH: u32 = 600;
/// Output height in pixels.
pub const OUT_HEIGHT: u32 = 800;
/// Mean luma below this: too dark.
pub const MIN_BRIGHTNESS: f32 = 60.0;
/// Mean luma above this: too bright.
pub const MAX_BRIGHTNESS: f32 = 200.0;
/// Variance of the Laplacian (on the 600×800 luma) below this: blurry.
///
/// Calibrated on the astronaut portrait (`tests/fixtures/astronaut.png`, 512 px,
/// so upscaled ×1.56 and already on the soft side): sharp ≈ 138; Gaussian blur of
/// the source with σ 0.7 → 32, σ 1 → 14, σ 2 → 2.7, σ 3 → 1.3. A 12 MP photo
/// downscaled to 600×800 scores far higher than the upscaled fixture. See
/// `tests/selfie.rs::blur_calibration`.
pub const MIN_SHARPNESS: f32 = 25.0;

/// Size limits; `Limits::default()` is what [`process`] uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_bytes: usize,
    /// Largest accepted frame, in pixels (width × height from the header).
    pub max_pixels: u64,
    /// Largest output JPEG, in bytes.
    pub max_jpeg_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 25_000_000,
            max_pixels: 50_000_000,
            max_jpeg_bytes: 150_000,
        }
    }
}

/// Why a picture was refused. Messages never contain image content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelfieError {
    #[error("image is {bytes} bytes, over the size limit")]
    TooLarge { bytes: usize },
    #[error("image is {w}x{h} pixels, over the pixel limit")]
    TooManyPixels { w: u32, h: u32 },
    #[error("image is corrupt: {0}")]
    Corrupt(String),
    #[error("image data ends too early")]
    Truncated,
    #[error("not a JPEG or PNG image")]
    UnsupportedFormat,
    #[error("could not encode the picture: {0}")]
    Encode(String),
}

/// Why a picture is not good to send (each with its measurement and the threshold).
/// The face verdicts come from `ikd_face::check_portrait`: no frontal face; `count`
/// faces of comparable size; the face is `ratio` of the width, under `min`; its centre
/// is `dx`, `dy` (fractions of width, height) from the middle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    TooDark { brightness: f32, min: f32 },
    TooBright { brightness: f32, max: f32 },
    Blurry { sharpness: f32, min: f32 },
    NoFace,
    SeveralFaces { count: u32 },
    FaceTooSmall { ratio: f32, min: f32 },
    FaceOffCentre { dx: f32, dy: f32 },
}

/// A processed selfie.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    /// Baseline JPEG, no metadata segments, at most `Limits::max_jpeg_bytes`.
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Mean luma, 0–255.
    pub brightness: f32,
    /// Variance of the Laplacian of the 600×800 luma.
    pub sharpness: f32,
    /// Empty when the picture is good to send.
    pub verdicts: Vec<Verdict>,
}

/// Processes a selfie with the default [`Limits`].
pub fn process(bytes: &[u8]) -> Result<Processed, SelfieError> {
    process_with(bytes, &Limits::default())
}

/// Processes a selfie with explicit limits.
pub fn process_with(bytes: &[u8], limits: &Limits) -> Result<Processed, SelfieError> {
    run(Input::Shared(bytes), limits)
}

/// [`process`] on a file the caller hands over (as read from disk or the camera): the
/// same checks and the same result, with less memory. The decode works in the buffer
/// itself instead of a copy of it, and the buffer then holds the 600×800 picture, so a
/// 12 MP photo costs about 5 MB less of fresh memory (the `ikd selfie` command).
pub fn process_vec(bytes: Vec<u8>) -> Result<Processed, SelfieError> {
    process_vec_with(bytes, &Limits::default())
}

/// [`process_vec`] with explicit limits.
pub fn process_vec_with(bytes: Vec<u8>, limits: &Limits) -> Result<Processed, SelfieError> {
    run(Input::Owned(bytes), limits)
}

/// The file, borrowed or handed over.
enum Input<'a> {
    Shared(&'a [u8]),
    Owned(Vec<u8>),
}

fn run(mut input: Input<'_>, limits: &Limits) -> Result<Processed, SelfieError> {
    let len = match &input {
        Input::Shared(b) => b.len(),
        Input::Owned(b) => b.len(),
    };
    if len > limits.max_bytes {
        return Err(SelfieError::TooLarge { bytes: len });
    }
    let (out_w, out_h) = (OUT_WIDTH as usize, OUT_HEIGHT as usize);
    // The face check's thread reads its model (once per process) while the decode runs,
    // unless `warm_up` started it earlier.
    faceworker::start();
    let decoded = decode_any(&mut input, limits, out_w, out_h)?;
    // Memory already written to is reused for the later pictures: a fresh page costs a
    // page fault (1–3 µs here), and a 12 MP selfie would otherwise touch ~6,700 of them.
    let spare = match input {
        Input::Owned(buf) => buf,
        Input::Shared(_) => Vec::new(),
    };
    let orientation = decoded.orientation;
    let (tw, th) = if swaps_axes(orientation) {
        (out_h, out_w)
    } else {
        (out_w, out_h)
    };
    let small = crop_resize(&decoded.raster, tw, th, spare);
    let spare = decoded.raster.data;
    let (upright, spare) = orient(small, orientation, spare);
    let (rgb, spare) = to_rgb(upright, spare);

    let gray = measure::gray_into(&rgb, spare);
    // The face check (the longest step after the decode) on its own thread, while this
    // one measures and encodes.
    let face = faceworker::submit(gray, OUT_WIDTH, OUT_HEIGHT);
    let (brightness, sharpness) = measure::brightness_and_sharpness(&rgb, out_w, out_h);
    let encoded = encode::encode_jpeg(
        &rgb,
        OUT_WIDTH as u16,
        OUT_HEIGHT as u16,
        limits.max_jpeg_bytes,
    );
    let face = verdict_of_face(face.wait());
    let (jpeg, _quality) = encoded?;
    let mut verdicts = verdicts(brightness, sharpness);
    verdicts.extend(face);
    Ok(Processed {
        jpeg,
        width: OUT_WIDTH,
        height: OUT_HEIGHT,
        brightness,
        sharpness,
        verdicts,
    })
}

/// Sniffs, walks and decodes (the size guards come first).
fn decode_any(
    input: &mut Input<'_>,
    limits: &Limits,
    out_w: usize,
    out_h: usize,
) -> Result<decode::Decoded, SelfieError> {
    let bytes = match input {
        Input::Shared(b) => b,
        Input::Owned(b) => b.as_slice(),
    };
    match header::sniff(bytes)? {
        Format::Jpeg => {
            let info = header::walk_jpeg(bytes, limits.max_pixels)?;
            let orientation = info.exif.map(decode::orientation_from_exif).unwrap_or(1);
            let data_end = info.single_scan_end;
            let src = match input {
                Input::Shared(b) => decode::Source::Shared(b),
                Input::Owned(b) => decode::Source::Scratch(b),
            };
            decode::jpeg(src, data_end, orientation, out_w, out_h)
        }
        Format::Png => {
            let (w, h) = header::walk_png(bytes, limits.max_pixels)?;
            decode::png(bytes, w, h)
        }
    }
}

/// Starts the face check's thread, which reads the face model (once per process, about
/// 25 M instructions), and returns at once. [`process`] starts it itself, beside the
/// decode; calling this earlier (before the file is read, or when the camera opens)
/// takes that work off the decode's two cores.
pub fn warm_up() {
    faceworker::start();
}

/// The quality verdicts for the given measurements (empty: acceptable).
pub fn verdicts(brightness: f32, sharpness: f32) -> Vec<Verdict> {
    let mut v = Vec::new();
    if brightness < MIN_BRIGHTNESS {
        v.push(Verdict::TooDark {
            brightness,
            min: MIN_BRIGHTNESS,
        });
    }
    if brightness > MAX_BRIGHTNESS {
        v.push(Verdict::TooBright {
            brightness,
            max: MAX_BRIGHTNESS,
        });
    }
    if sharpness < MIN_SHARPNESS {
        v.push(Verdict::Blurry {
            sharpness,
            min: MIN_SHARPNESS,
        });
    }
    v
}

/// The verdict for a face check's outcome. The check cannot fail on a 600×800
/// picture; if it ever did, the face was not seen.
pub fn verdict_of_face(check: Result<ikd_face::Portrait, ikd_face::FaceError>) -> Option<Verdict> {
    use ikd_face::Portrait;
    match check {
        Ok(Portrait::OneFace { .. }) => None,
        Ok(Portrait::NoFace) | Err(_) => Some(Verdict::NoFace),
        Ok(Portrait::SeveralFaces { count }) => Some(Verdict::SeveralFaces { count }),
        Ok(Portrait::FaceTooSmall { ratio, min, .. }) => Some(Verdict::FaceTooSmall { ratio, min }),
        Ok(Portrait::FaceOffCentre { dx, dy, .. }) => Some(Verdict::FaceOffCentre { dx, dy }),
    }
}

/// The picture as RGB, and the buffer left over (`spare` again, or the grey one).
fn to_rgb(r: Raster, spare: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
    if r.channels == 3 {
        return (r.data, spare);
    }
    let mut rgb = spare;
    rgb.clear();
    rgb.extend(r.data.iter().flat_map(|&g| [g, g, g]));
    (rgb, r.data)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn verdict_thresholds() {
        assert!(verdicts(128.0, 1000.0).is_empty());
        assert!(matches!(
            verdicts(10.0, 1000.0)[..],
            [Verdict::TooDark { .. }]
        ));
        assert!(matches!(
            verdicts(250.0, 1000.0)[..],
            [Verdict::TooBright { .. }]
        ));
        assert!(matches!(verdicts(128.0, 1.0)[..], [Verdict::Blurry { .. }]));
    }

    #[test]
    fn face_outcomes_map_to_verdicts() {
        use ikd_face::{Face, FaceError, Portrait};
        let face = Face {
            x: 0,
            y: 0,
            size: 50,
            score: 3.0,
        };
        assert_eq!(verdict_of_face(Ok(Portrait::OneFace { face })), None);
        assert_eq!(verdict_of_face(Ok(Portrait::NoFace)), Some(Verdict::NoFace));
        let err = FaceError::TooLarge {
            width: 1,
            height: 1,
        };
        assert_eq!(verdict_of_face(Err(err)), Some(Verdict::NoFace));
        assert_eq!(
            verdict_of_face(Ok(Portrait::SeveralFaces { count: 2 })),
            Some(Verdict::SeveralFaces { count: 2 })
        );
        let small = Portrait::FaceTooSmall {
            face,
            ratio: 0.1,
            min: 0.2,
        };
        assert_eq!(
            verdict_of_face(Ok(small)),
            Some(Verdict::FaceTooSmall {
                ratio: 0.1,
                min: 0.2
            })
        );
        let off = Portrait::FaceOffCentre {
            face,
            dx: 0.4,
            dy: 0.0,
        };
        assert_eq!(
            verdict_of_face(Ok(off)),
            Some(Verdict::FaceOffCentre { dx: 0.4, dy: 0.0 })
        );
    }

    #[test]
    fn rejects_oversize_before_looking() {
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert_eq!(
            process_with(&[0u8; 11], &limits),
            Err(SelfieError::TooLarge { bytes: 11 })
        );
    }
}
