//! Frontal faces in a grayscale picture, entirely on the device.
//!
//! The detector is SeetaFace's funnel-structured cascade (LAB boosted classifiers, then
//! SURF multilayer perceptrons) through the `rustface` crate; its frontal model is
//! embedded in this crate (see [`model`](crate::pack_model) and `model/README.md`), so
//! nothing is read from disk or the network. Both the wallet (`ikd-core`, the selfie
//! pipeline) and the server (at submit, for the officer) call [`check_portrait`], so the
//! two agree on what "one face, large enough, roughly centred" means.
//!
//! [`detect`] is a pure function over a buffer: any width, height and content give a
//! typed result, never a panic. What the caller gets:
//! - a buffer whose length is not `width × height` → [`FaceError::BufferSize`];
//! - a side over [`MAX_SIDE`] → [`FaceError::TooLarge`];
//! - a picture too small to hold a 40-pixel window → `Ok` with no faces.
//!
//! rustface's integral images rely on wrapping integer arithmetic; the workspace builds
//! rustface with `overflow-checks = false` in every profile (root `Cargo.toml`,
//! `fuzz/Cargo.toml`), as its release build has.

mod model;

pub use model::{pack_model, ModelError};

use std::sync::OnceLock;

/// The detector's window: the smallest face it can see, in working pixels.
pub const WINDOW: u32 = 40;
/// Largest accepted width or height.
pub const MAX_SIDE: u32 = 8192;
/// The picture is averaged down until it has at most this many pixels, which bounds
/// the time of one detection (a 600×800 selfie is worked on at 300×400).
pub const MAX_WORK_PIXELS: u64 = 480_000;
/// The sliding window's step, in working pixels, both ways (rustface's default is 4).
///
/// 8 (a fifth of the window) does half the work of 4: most of rustface's time goes
/// into the SURF stage, once per window the first stage lets through, and a coarser
/// grid lets through half as many. Measured on the astronaut at 600×800 (callgrind,
/// dev profile, rustface at opt-level 3): the check 588 M instructions with 4, 397 M
/// with 6, 298 M with 8; the face found at the same place (size 152 → 158 px, score
/// 23.9 → 17.9, threshold 2.0), and every verdict in `tests/portrait.rs`,
/// `selfie/tests/face.rs` and the server's face tests unchanged.
pub const WINDOW_STEP: u32 = 8;
/// Detections scoring below this are dropped (rustface's usual 2.0).
pub const SCORE_THRESHOLD: f64 = 2.0;

/// Why a picture could not be looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaceError {
    #[error("buffer has {got} bytes, a {width}x{height} grayscale picture has {expected}")]
    BufferSize {
        width: u32,
        height: u32,
        expected: u64,
        got: usize,
    },
    #[error("picture is {width}x{height}, over {MAX_SIDE} pixels on a side")]
    TooLarge { width: u32, height: u32 },
    #[error("face model: {0}")]
    Model(#[from] ModelError),
}

/// A detected face: a square box in the input's pixels (it may reach past the edges)
/// and the detector's confidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    pub x: i32,
    pub y: i32,
    /// Width and height of the box.
    pub size: u32,
    pub score: f64,
}

impl Face {
    /// Centre of the box, in input pixels.
    pub fn centre(&self) -> (f32, f32) {
        let half = self.size as f32 / 2.0;
        (self.x as f32 + half, self.y as f32 + half)
    }

    fn contains(&self, (x, y): (f32, f32)) -> bool {
        let (x0, y0) = (self.x as f32, self.y as f32);
        let s = self.size as f32;
        (x0..x0 + s).contains(&x) && (y0..y0 + s).contains(&y)
    }
}

/// The process's model, read once.
fn model() -> Result<&'static rustface::Model, FaceError> {
    static MODEL: OnceLock<Result<rustface::Model, ModelError>> = OnceLock::new();
    MODEL
        .get_or_init(read_embedded)
        .as_ref()
        .map_err(|e| FaceError::Model(e.clone()))
}

/// A model of its own, read from the embedded one.
fn read_model() -> Result<rustface::Model, FaceError> {
    Ok(read_embedded()?)
}

fn read_embedded() -> Result<rustface::Model, ModelError> {
    // The layout is checked field by field before rustface reads a byte, so its reader
    // (which panics on an unknown classifier kind) only sees a valid model.
    rustface::read_model(model::reader()?).map_err(|_| ModelError::Refused)
}

/// Finds frontal faces at least `min_face` pixels wide (values under [`WINDOW`] mean
/// [`WINDOW`]), strongest first.
///
/// The picture is box-averaged by an integer factor so that `min_face` becomes the
/// detector's 40-pixel window (and at most [`MAX_WORK_PIXELS`] remain); boxes come back
/// in the input's pixels. Each call makes a detector with a copy of the process's model
/// (read once); [`Checker`] keeps one instead.
pub fn detect(gray: &[u8], width: u32, height: u32, min_face: u32) -> Result<Vec<Face>, FaceError> {
    detect_on(None, gray, width, height, min_face)
}

/// A face check that keeps its detector, and with it its own copy of the model (1.2 MB,
/// read from the embedded one when the checker is made), from one picture to the next:
/// no model copy per picture, as [`detect`] and [`check_portrait`] make. rustface's
/// detector is not `Send`, so a checker stays on the thread that made it.
pub struct Checker {
    detector: Box<dyn rustface::Detector>,
}

impl Checker {
    /// Reads the embedded model (about 25 M instructions) into a new detector.
    pub fn new() -> Result<Checker, FaceError> {
        let model = read_model()?;
        Ok(Checker {
            detector: rustface::create_detector_with_model(model),
        })
    }

    /// [`detect`] with this checker's detector.
    pub fn detect(
        &mut self,
        gray: &[u8],
        width: u32,
        height: u32,
        min_face: u32,
    ) -> Result<Vec<Face>, FaceError> {
        detect_on(Some(&mut *self.detector), gray, width, height, min_face)
    }

    /// [`check_portrait`] with this checker's detector: the same verdict.
    pub fn check_portrait(
        &mut self,
        gray: &[u8],
        width: u32,
        height: u32,
    ) -> Result<Portrait, FaceError> {
        let rules = PortraitRules::default();
        let faces = self.detect(gray, width, height, min_face(width, &rules))?;
        Ok(judge(&faces, width, height, &rules))
    }
}

/// The smallest face looked for in a picture `width` wide.
fn min_face(width: u32, rules: &PortraitRules) -> u32 {
    (width as f32 * rules.min_face_width * rules.detect_below) as u32
}

/// [`detect`] on the given detector, or on a new one with a copy of the process's model.
fn detect_on(
    detector: Option<&mut dyn rustface::Detector>,
    gray: &[u8],
    width: u32,
    height: u32,
    min_face: u32,
) -> Result<Vec<Face>, FaceError> {
    let expected = u64::from(width) * u64::from(height);
    if gray.len() as u64 != expected {
        return Err(FaceError::BufferSize {
            width,
            height,
            expected,
            got: gray.len(),
        });
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(FaceError::TooLarge { width, height });
    }
    let mut k = (min_face / WINDOW).max(1);
    while (u64::from(width / k) * u64::from(height / k)) > MAX_WORK_PIXELS {
        k += 1;
    }
    let (ww, wh) = (width / k, height / k);
    // rustface scans a pyramid down to scale 40 / short side; capping the largest face
    // 4 pixels under the short side keeps every pyramid level at least 40 pixels wide
    // despite float rounding (its window arithmetic is unsigned).
    let short = ww.min(wh);
    if short < WINDOW + 8 {
        return Ok(Vec::new());
    }
    let work = downscale(gray, width as usize, k as usize, ww as usize, wh as usize);
    let mut own;
    let detector = match detector {
        Some(d) => d,
        None => {
            own = rustface::create_detector_with_model(model()?.clone());
            &mut *own
        }
    };
    detector.set_min_face_size(WINDOW);
    detector.set_max_face_size(short - 4);
    detector.set_score_thresh(SCORE_THRESHOLD);
    detector.set_pyramid_scale_factor(0.8);
    detector.set_slide_window_step(WINDOW_STEP, WINDOW_STEP);
    let found = detector.detect(&rustface::ImageData::new(&work, ww, wh));
    let kf = k as i32;
    let mut faces: Vec<Face> = found
        .iter()
        .map(|f| {
            let b = f.bbox();
            Face {
                x: b.x().saturating_mul(kf),
                y: b.y().saturating_mul(kf),
                size: b.width().saturating_mul(k),
                score: f.score(),
            }
        })
        .filter(|f| f.size >= min_face.max(WINDOW))
        .collect();
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(faces)
}

/// Box average by `k` (the last partial row/column is dropped).
fn downscale(gray: &[u8], width: usize, k: usize, ww: usize, wh: usize) -> Vec<u8> {
    match k {
        1 => gray[..ww * wh].to_vec(),
        // A 600×800 selfie: a constant factor, so no division per pixel (the same
        // values: `(s + 2) / 4` either way).
        2 => downscale_by::<2>(gray, width, ww, wh),
        _ => downscale_any(gray, width, k, ww, wh),
    }
}

fn downscale_by<const K: usize>(gray: &[u8], width: usize, ww: usize, wh: usize) -> Vec<u8> {
    let area = (K * K) as u32;
    let mut out = Vec::with_capacity(ww * wh);
    let mut sums = vec![0u32; ww];
    for oy in 0..wh {
        sums.iter_mut().for_each(|s| *s = 0);
        for row in gray[oy * K * width..].chunks(width).take(K) {
            for (s, cell) in sums.iter_mut().zip(row.chunks_exact(K)) {
                *s += cell.iter().map(|&p| u32::from(p)).sum::<u32>();
            }
        }
        out.extend(sums.iter().map(|&s| ((s + area / 2) / area) as u8));
    }
    out
}

fn downscale_any(gray: &[u8], width: usize, k: usize, ww: usize, wh: usize) -> Vec<u8> {
    let area = (k * k) as u32;
    let mut out = Vec::with_capacity(ww * wh);
    let mut sums = vec![0u32; ww];
    for oy in 0..wh {
        sums.iter_mut().for_each(|s| *s = 0);
        for row in gray[oy * k * width..].chunks(width).take(k) {
            for (s, cell) in sums.iter_mut().zip(row.chunks(k)) {
                *s += cell.iter().map(|&p| u32::from(p)).sum::<u32>();
            }
        }
        out.extend(sums.iter().map(|&s| ((s + area / 2) / area) as u8));
    }
    out
}

/// What a portrait (a selfie) must show: one frontal face, large enough, roughly
/// centred. The fractions are of the picture's width (size, horizontal offset) and
/// height (vertical offset).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PortraitRules {
    /// The face box must be at least this fraction of the picture's width.
    pub min_face_width: f32,
    /// Faces are looked for down to this fraction of `min_face_width`, so a face a bit
    /// too small is reported as too small, not as missing.
    pub detect_below: f32,
    /// Largest horizontal distance of the face's centre from the picture's centre.
    pub max_dx: f32,
    /// Vertical offset of the face's centre from the picture's centre, up (negative)
    /// and down; a selfie's face usually sits above the middle.
    pub dy: (f32, f32),
    /// Another face at least this fraction of the largest face's size makes the
    /// picture "several faces"; smaller ones (far in the background) are ignored.
    pub companion: f32,
}

impl Default for PortraitRules {
    /// Calibrated on the astronaut portrait cropped to 3:4 (face 26 % of the width,
    /// centre 7 % left and 28 % above the middle) and the synthetic cases in the tests.
    fn default() -> Self {
        PortraitRules {
            min_face_width: 0.20,
            detect_below: 2.0 / 3.0,
            max_dx: 0.25,
            dy: (-0.35, 0.25),
            companion: 0.5,
        }
    }
}

/// The outcome of [`check_portrait`]. [`Portrait::kind`] names it stably.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Portrait {
    /// Exactly one face, large enough and roughly centred.
    OneFace {
        face: Face,
    },
    NoFace,
    /// `count` faces of comparable size.
    SeveralFaces {
        count: u32,
    },
    /// The face's width is `ratio` of the picture's, under `min`.
    FaceTooSmall {
        face: Face,
        ratio: f32,
        min: f32,
    },
    /// The face's centre is `dx`, `dy` (fractions of width and height) from the
    /// picture's centre, further than the rules allow.
    FaceOffCentre {
        face: Face,
        dx: f32,
        dy: f32,
    },
}

impl Portrait {
    /// `one_face`, `no_face`, `several_faces`, `face_too_small`, `face_off_centre`.
    pub fn kind(&self) -> &'static str {
        match self {
            Portrait::OneFace { .. } => "one_face",
            Portrait::NoFace => "no_face",
            Portrait::SeveralFaces { .. } => "several_faces",
            Portrait::FaceTooSmall { .. } => "face_too_small",
            Portrait::FaceOffCentre { .. } => "face_off_centre",
        }
    }

    /// True for [`Portrait::OneFace`].
    pub fn is_ok(&self) -> bool {
        matches!(self, Portrait::OneFace { .. })
    }
}

/// [`check_portrait_with`] the default rules.
pub fn check_portrait(gray: &[u8], width: u32, height: u32) -> Result<Portrait, FaceError> {
    check_portrait_with(gray, width, height, &PortraitRules::default())
}

/// Looks for one face in a portrait, by the given rules.
pub fn check_portrait_with(
    gray: &[u8],
    width: u32,
    height: u32,
    rules: &PortraitRules,
) -> Result<Portrait, FaceError> {
    let faces = detect(gray, width, height, min_face(width, rules))?;
    Ok(judge(&faces, width, height, rules))
}

/// The verdict for the faces found in a `width × height` picture.
pub fn judge(faces: &[Face], width: u32, height: u32, rules: &PortraitRules) -> Portrait {
    let Some(main) = faces.iter().max_by_key(|f| f.size) else {
        return Portrait::NoFace;
    };
    let companions = faces
        .iter()
        .filter(|f| !std::ptr::eq(*f, main))
        .filter(|f| f.size as f32 >= main.size as f32 * rules.companion)
        .filter(|f| !main.contains(f.centre()))
        .count();
    if companions > 0 {
        return Portrait::SeveralFaces {
            count: u32::try_from(companions + 1).unwrap_or(u32::MAX),
        };
    }
    let (w, h) = (width.max(1) as f32, height.max(1) as f32);
    let ratio = main.size as f32 / w;
    if ratio < rules.min_face_width {
        return Portrait::FaceTooSmall {
            face: *main,
            ratio,
            min: rules.min_face_width,
        };
    }
    let (cx, cy) = main.centre();
    let (dx, dy) = (cx / w - 0.5, cy / h - 0.5);
    if dx.abs() > rules.max_dx || dy < rules.dy.0 || dy > rules.dy.1 {
        return Portrait::FaceOffCentre {
            face: *main,
            dx,
            dy,
        };
    }
    Portrait::OneFace { face: *main }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn face(x: i32, y: i32, size: u32) -> Face {
        Face {
            x,
            y,
            size,
            score: 10.0,
        }
    }

    #[test]
    fn judge_applies_the_rules() {
        let r = PortraitRules::default();
        assert_eq!(judge(&[], 600, 800, &r), Portrait::NoFace);
        let centred = face(225, 250, 150);
        assert!(judge(&[centred], 600, 800, &r).is_ok());
        // A second face of comparable size; a far smaller one is background.
        assert_eq!(
            judge(&[centred, face(20, 20, 100)], 600, 800, &r),
            Portrait::SeveralFaces { count: 2 }
        );
        assert!(judge(&[centred, face(20, 20, 60)], 600, 800, &r).is_ok());
        // A box inside the main one is the same face twice.
        assert!(judge(&[centred, face(250, 280, 90)], 600, 800, &r).is_ok());
        assert_eq!(
            judge(&[face(250, 300, 100)], 600, 800, &r).kind(),
            "face_too_small"
        );
        assert_eq!(
            judge(&[face(440, 300, 150)], 600, 800, &r).kind(),
            "face_off_centre"
        );
        assert_eq!(
            judge(&[face(225, 600, 150)], 600, 800, &r).kind(),
            "face_off_centre"
        );
        assert_eq!(
            judge(&[face(225, -40, 150)], 600, 800, &r).kind(),
            "face_off_centre"
        );
    }

    #[test]
    fn bad_buffers_are_typed_errors() {
        assert_eq!(
            detect(&[0; 10], 4, 4, 0),
            Err(FaceError::BufferSize {
                width: 4,
                height: 4,
                expected: 16,
                got: 10
            })
        );
        assert!(matches!(
            detect(&[], 0, u32::MAX, 0),
            Err(FaceError::TooLarge { .. })
        ));
        assert_eq!(detect(&[], 0, 0, 0), Ok(Vec::new()));
        assert_eq!(detect(&[7; 47 * 47], 47, 47, 0), Ok(Vec::new()));
    }

    #[test]
    fn downscale_averages_blocks() {
        let gray = [0, 10, 20, 30, 40, 50, 60, 70, 80];
        assert_eq!(downscale(&gray, 3, 2, 1, 1), vec![(10 + 30 + 40 + 2) / 4]);
        assert_eq!(downscale(&gray, 3, 1, 3, 3), gray.to_vec());
        // The constant-factor path gives what the general one gives.
        let mut seed = 99u32;
        let (w, h) = (601, 803);
        let noise: Vec<u8> = (0..w * h)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (seed >> 16) as u8
            })
            .collect();
        let by_two = downscale(&noise, w, 2, w / 2, h / 2);
        assert_eq!(by_two.len(), (w / 2) * (h / 2));
        assert!(by_two == downscale_any(&noise, w, 2, w / 2, h / 2));
    }
}
