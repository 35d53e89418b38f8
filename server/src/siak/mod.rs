//! The population register: SIAK (Sistem Informasi Administrasi Kependudukan), run by
//! Dukcapil. The server asks it three things, behind the [`Siak`] trait:
//! a resident by NIK, the members of a KK, and the resident's photo (from the KTP-el
//! recording). [`eligibility`] is the rule applied to the answer.
//!
//! [`SimulatedSiak`] is the one implementation here: synthetic residents ([`seed`],
//! [`crate::demo`]) in the server's own store, and a drawn portrait ([`portrait`]) for
//! a photo. A deployment plugs in the real register by implementing [`Siak`] and
//! putting it in [`crate::AppState::siak`].
//!
//! # An HTTP adapter to Dukcapil's SIAK
//! Dukcapil gives institutions access to population data by agreement (a *Perjanjian
//! Kerja Sama*) through a web-service gateway. Its interface is not public, so this is
//! the shape an adapter would need, not a description of that gateway:
//! - **Transport and identity**: mutual TLS with the client certificate issued under the
//!   agreement, plus the gateway's user id, password or API key and the caller's
//!   registered IP; secrets from the deployment's secret store, never in the config file.
//! - **Requests**: look-up by NIK (the resident's biodata, whether the KTP-el recording
//!   is done and whether the NIK is active, i.e. alive), by KK number (the members, with
//!   *status hubungan dalam keluarga*), and the photo (JPEG).
//! - **Mapping**: the gateway's field names to [`Resident`] (values as printed, in
//!   CAPITALS; dates to `YYYY-MM-DD`); an unknown NIK is `Ok(None)`, never an error, so
//!   the API's answer stays the generic 404.
//! - **Failures**: timeouts (a few seconds; the resident is waiting), retries only for
//!   idempotent look-ups, and [`SiakError::Unavailable`] when the gateway is down (the
//!   API answers 500 and the app asks to try again). A circuit breaker keeps a down
//!   gateway from holding every worker.
//! - **Caching**: photos and family look-ups for the life of an enrollment at most;
//!   personal data is not kept beyond what the credential needs, and never logged
//!   (NIKs masked, as here).
//! - **Async**: the trait is synchronous, like the store; an HTTP adapter runs its
//!   calls on a runtime handle or the blocking pool until the store turns async.

pub mod eligibility;
pub mod portrait;
pub mod seed;
mod villages;
pub mod vocabulary;

pub use eligibility::{eligibility, Ineligible};

use crate::store::{Resident, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum SiakError {
    /// The simulator's store failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The register did not answer (an adapter's timeout, refusal or outage).
    #[error("SIAK unavailable: {0}")]
    Unavailable(String),
}

pub type SiakResult<T> = Result<T, SiakError>;

/// What the server asks of the population register.
pub trait Siak: Send + Sync {
    /// The resident with this NIK, if the register knows it.
    fn resident(&self, nik: &str) -> SiakResult<Option<Resident>>;
    /// The members of a KK, head first.
    fn family(&self, kk: &str) -> SiakResult<Vec<Resident>>;
    /// The resident's photo (JPEG), for the officer's comparison and the KTP credential.
    fn photo(&self, resident: &Resident) -> SiakResult<Arc<Vec<u8>>>;
}

/// The SIAK simulator: residents from the server's store, a drawn portrait per NIK
/// (drawn once, then cached).
pub struct SimulatedSiak {
    store: Arc<dyn Store>,
    photos: Mutex<HashMap<String, Arc<Vec<u8>>>>,
}

/// At most this many portraits stay cached (then the cache starts over).
const PHOTO_CACHE: usize = 10_000;

impl SimulatedSiak {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            photos: Mutex::new(HashMap::new()),
        }
    }
}

impl Siak for SimulatedSiak {
    fn resident(&self, nik: &str) -> SiakResult<Option<Resident>> {
        Ok(self.store.resident(nik)?)
    }

    fn family(&self, kk: &str) -> SiakResult<Vec<Resident>> {
        Ok(self.store.family(kk)?)
    }

    fn photo(&self, r: &Resident) -> SiakResult<Arc<Vec<u8>>> {
        if let Some(p) = self
            .photos
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&r.nik)
        {
            return Ok(p.clone());
        }
        let photo = Arc::new(draw_photo(r).map_err(SiakError::Unavailable)?);
        let mut c = self.photos.lock().unwrap_or_else(|p| p.into_inner());
        if c.len() > PHOTO_CACHE {
            c.clear();
        }
        c.insert(r.nik.clone(), photo.clone());
        Ok(photo)
    }
}

/// The simulator's photo of a resident: a portrait seeded by the NIK, of their sex
/// and birth year. A failed encoding (libjpeg-turbo without memory) is the register
/// not answering.
fn draw_photo(r: &Resident) -> Result<Vec<u8>, String> {
    let seed =
        u64::from_str_radix(&crate::crypto::sha256_hex(r.nik.as_bytes())[..16], 16).unwrap_or(0);
    let year: i32 = r
        .tanggal_lahir
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(2000);
    portrait::portrait_jpeg(seed, year, r.jenis_kelamin == vocabulary::PEREMPUAN)
        .map_err(|e| format!("portrait: {e}"))
}
