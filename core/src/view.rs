//! What the UI is shown: the serializable views that Tauri commands return.
//! ts-rs exports each into `gen/ts/` so the UI's types come from here.

use crate::credential::model::{Kk, Ktp};
use crate::wire::EnrollmentStatusWire;
/// What a NIK and a region code say: the identity rules' own results, shown as they are.
pub use ikd_proto::identity::{NikInfo, RegionRef, Sex};
// Types the lower layers own and the UI shows (defined where they live, so that the
// vault and the store do not import from this module).
pub use crate::store::history::{HistoryEntry, HistoryKind};
pub use crate::vault::keystore::KeyStoreKind;
pub use crate::vault::lockout::LockoutView;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The registration form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RegisterForm {
    pub nik: String,
    pub email: String,
    pub phone: String,
    pub consent: bool,
}

/// What the resident typed and photographed, kept (sealed) across a restart until the
/// enrollment is submitted.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Draft {
    pub form: Option<RegisterForm>,
    pub selfie: Option<SelfieView>,
}

/// Why a selfie is not good to send. The face verdicts (`ikd_face::check_portrait`):
/// `no_face` (no frontal face found), `several_faces` (`count` faces of comparable
/// size), `face_too_small` (the face is `ratio` of the width, under `min`),
/// `face_off_centre` (its centre is `dx`, `dy` of the width, height from the middle).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum SelfieVerdict {
    TooDark { brightness: f32, min: f32 },
    TooBright { brightness: f32, max: f32 },
    Blurry { sharpness: f32, min: f32 },
    NoFace,
    SeveralFaces { count: u32 },
    FaceTooSmall { ratio: f32, min: f32 },
    FaceOffCentre { dx: f32, dy: f32 },
}

impl From<ikd_selfie::Verdict> for SelfieVerdict {
    fn from(v: ikd_selfie::Verdict) -> Self {
        use ikd_selfie::Verdict as V;
        match v {
            V::TooDark { brightness, min } => SelfieVerdict::TooDark { brightness, min },
            V::TooBright { brightness, max } => SelfieVerdict::TooBright { brightness, max },
            V::Blurry { sharpness, min } => SelfieVerdict::Blurry { sharpness, min },
            V::NoFace => SelfieVerdict::NoFace,
            V::SeveralFaces { count } => SelfieVerdict::SeveralFaces { count },
            V::FaceTooSmall { ratio, min } => SelfieVerdict::FaceTooSmall { ratio, min },
            V::FaceOffCentre { dx, dy } => SelfieVerdict::FaceOffCentre { dx, dy },
        }
    }
}

/// An upload's progress: the request body's bytes handed to the network (the HTTP
/// connection and the OS send buffer take them; that is not bytes the server has
/// received), of its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UploadProgress {
    pub sent: u32,
    pub total: u32,
}

impl UploadProgress {
    pub fn new(sent: u64, total: u64) -> Self {
        let c = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        Self {
            sent: c(sent),
            total: c(total),
        }
    }
}

/// A processed selfie: 600×800 JPEG without metadata, and its measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SelfieView {
    /// Base64 JPEG (standard alphabet).
    pub preview_jpeg: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u32,
    /// Mean luma, 0–255.
    pub brightness: f32,
    /// Variance of the Laplacian.
    pub sharpness: f32,
    pub verdicts: Vec<SelfieVerdict>,
    /// No verdicts: the photo is good to send.
    pub acceptable: bool,
}

impl From<&ikd_selfie::Processed> for SelfieView {
    /// The JPEG as base64 (standard alphabet), and the measurements.
    fn from(p: &ikd_selfie::Processed) -> Self {
        use base64::Engine as _;
        SelfieView {
            preview_jpeg: base64::engine::general_purpose::STANDARD.encode(&p.jpeg),
            width: p.width,
            height: p.height,
            bytes: u32::try_from(p.jpeg.len()).unwrap_or(u32::MAX),
            brightness: p.brightness,
            sharpness: p.sharpness,
            verdicts: p
                .verdicts
                .iter()
                .copied()
                .map(SelfieVerdict::from)
                .collect(),
            acceptable: p.verdicts.is_empty(),
        }
    }
}

/// Where the resident is in the journey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Stage {
    /// Nothing started.
    Welcome,
    /// Form or selfie in progress, not yet submitted.
    Draft,
    /// Submitted and waiting: see `enrollment.status`.
    Enrolling,
    /// Code accepted and documents fetched; a PIN must be created.
    NeedsPin,
    /// Active, documents behind the PIN.
    Locked,
    Unlocked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct EnrollmentView {
    pub status: EnrollmentStatusWire,
    pub desk_name: Option<String>,
    pub reject_reason: Option<String>,
    /// RFC 3339
    pub code_expires_at: Option<String>,
    pub code_attempts_left: Option<u32>,
    pub email_masked: Option<String>,
    /// While scanned: the code to show the officer at the desk (4 letters).
    pub desk_confirm_code: Option<String>,
    /// "Lupa PIN" asked for: the new PIN can be set from this time on (RFC 3339), once
    /// an officer reviewed the request and the code came by email.
    pub pin_reset_usable_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Settings {
    /// "id" or "en"
    pub language: String,
    pub auto_lock_secs: u32,
    pub backend_url: String,
    /// "Periksa KTP": the verifier service (`ikd-verifier`'s API). https, or http on
    /// loopback in development builds; empty until one is configured (development
    /// builds start with `IKD_VERIFIER_URL`, else the local `ikd-verifier demo`).
    #[serde(default)]
    pub verifier_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AppState {
    pub stage: Stage,
    pub enrollment: Option<EnrollmentView>,
    pub lockout: Option<LockoutView>,
    pub settings: Settings,
    /// Dev builds may change the backend URL.
    pub dev_build: bool,
    /// The documents were wiped after too many wrong PINs; "Lupa PIN" downloads them
    /// again.
    pub documents_wiped: bool,
    /// "Lupa PIN" was asked for: a code went to the resident's email and waits to be
    /// entered (`enrollment` carries its expiry, tries left and the masked address).
    pub pin_reset_pending: bool,
    /// Where the device secret is kept. `file` means no OS key store answered and the
    /// secret is in a file (outside the data folder): Pengaturan says so.
    pub key_store: KeyStoreKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HomeView {
    pub nama: String,
    /// Base64 JPEG.
    pub foto: String,
    /// "1671********0001"
    pub nik_masked: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct KtpView {
    pub ktp: Ktp,
    /// The issuer signature was checked again just now.
    pub verified: bool,
    pub issuer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct KkView {
    pub kk: Kk,
    pub verified: bool,
    pub issuer: String,
}
