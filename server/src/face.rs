//! The face check of a submitted selfie: the same `ikd_face::check_portrait` the app
//! runs on the selfie, run again on the uploaded JPEG, so the officer sees whether it
//! shows one face (the app's check can be skipped by a modified client).
//!
//! It never refuses a submit and never reaches the resident: the outcome is stored
//! with the enrollment and shown in the officer console; the officer decides. It runs
//! only after the NIK was found eligible, so it adds no signal about unknown NIKs.
//!
//! It runs off the request path: a submit (or a PIN reset with a selfie) stores the
//! verdict [`FaceCheck::Pending`], which queues the check in the same write (table
//! `face_checks`, `store::facequeue`); a worker on each node runs one check at a time
//! on a blocking thread and stores the verdict ([`crate::facework`]).

use serde::{Deserialize, Serialize};

/// Largest selfie side the server decodes (the app sends 600×800).
const MAX_SIDE: u32 = 4096;

/// What the face check found in the uploaded selfie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FaceCheck {
    /// Not checked yet: queued, a worker stores the verdict shortly.
    Pending,
    /// One face, large enough, roughly centred.
    OneFace,
    NoFace,
    SeveralFaces,
    FaceTooSmall,
    FaceOffCentre,
    /// The JPEG could not be decoded (or is larger than 4096 px on a side).
    Unreadable,
}

impl FaceCheck {
    /// Decodes the selfie and checks it; never fails (and never answers `Pending`).
    pub fn of_jpeg(jpeg: &[u8]) -> FaceCheck {
        let Some((gray, w, h)) = decode_gray(jpeg) else {
            return FaceCheck::Unreadable;
        };
        match ikd_face::check_portrait(&gray, w, h) {
            Ok(ikd_face::Portrait::OneFace { .. }) => FaceCheck::OneFace,
            Ok(ikd_face::Portrait::NoFace) => FaceCheck::NoFace,
            Ok(ikd_face::Portrait::SeveralFaces { .. }) => FaceCheck::SeveralFaces,
            Ok(ikd_face::Portrait::FaceTooSmall { .. }) => FaceCheck::FaceTooSmall,
            Ok(ikd_face::Portrait::FaceOffCentre { .. }) => FaceCheck::FaceOffCentre,
            Err(_) => FaceCheck::Unreadable,
        }
    }

    /// The console's wording (Bahasa Indonesia).
    pub fn note(self) -> &'static str {
        match self {
            FaceCheck::Pending => "Wajah sedang diperiksa",
            FaceCheck::OneFace => "Wajah terdeteksi",
            FaceCheck::NoFace => "Wajah tidak terdeteksi — periksa foto",
            FaceCheck::SeveralFaces => "Lebih dari satu wajah — periksa foto",
            FaceCheck::FaceTooSmall => "Wajah terlalu kecil — periksa foto",
            FaceCheck::FaceOffCentre => "Wajah tidak di tengah — periksa foto",
            FaceCheck::Unreadable => "Foto tidak dapat dibaca — periksa foto",
        }
    }
}

/// The selfie as 8-bit gray, with its size; `None` if it is not a JPEG this decoder
/// reads, or is over [`MAX_SIDE`] on a side (checked from the header, before decoding).
fn decode_gray(jpeg: &[u8]) -> Option<(Vec<u8>, u32, u32)> {
    use jpeg_decoder::PixelFormat;
    let mut d = jpeg_decoder::Decoder::new(jpeg);
    d.read_info().ok()?;
    let info = d.info()?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    if w > MAX_SIDE || h > MAX_SIDE {
        return None;
    }
    let px = d.decode().ok()?;
    let gray = match info.pixel_format {
        PixelFormat::L8 => px,
        PixelFormat::L16 => px.chunks_exact(2).map(|p| p[0]).collect(),
        PixelFormat::RGB24 => px
            .chunks_exact(3)
            .map(|p| {
                let l = 299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]);
                ((l + 500) / 1000) as u8
            })
            .collect(),
        PixelFormat::CMYK32 => return None,
    };
    Some((gray, w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_unreadable_not_an_error() {
        assert_eq!(FaceCheck::of_jpeg(b""), FaceCheck::Unreadable);
        assert_eq!(
            FaceCheck::of_jpeg(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 2, 0xFF, 0xD9]),
            FaceCheck::Unreadable
        );
    }

    #[test]
    fn notes_are_bahasa_and_only_one_face_is_fine() {
        assert_eq!(FaceCheck::Pending.note(), "Wajah sedang diperiksa");
        assert_eq!(FaceCheck::OneFace.note(), "Wajah terdeteksi");
        assert_eq!(
            FaceCheck::NoFace.note(),
            "Wajah tidak terdeteksi — periksa foto"
        );
        for f in [
            FaceCheck::SeveralFaces,
            FaceCheck::FaceTooSmall,
            FaceCheck::FaceOffCentre,
            FaceCheck::Unreadable,
        ] {
            assert!(f.note().ends_with("periksa foto"), "{f:?}");
        }
    }
}
