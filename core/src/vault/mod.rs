//! The PIN-gated document vault.
//!
//! - A random 256-bit document key encrypts every cached document (AES-256-GCM,
//!   [`document`]).
//! - The document key is wrapped under a KEK derived from the PIN (Argon2id) and the
//!   device secret (HKDF) ([`kdf`]); the wrapped key, salt and KDF parameters form the
//!   [`envelope`], MAC'd with a device-secret key so tampering is told apart from a
//!   wrong PIN.
//! - Wrong PINs are counted in the store with growing waits and a wipe after 10
//!   ([`lockout`]).
//! - [`keystore`]: where the device secret lives.
//! - [`sealed`]: small records sealed under the device secret alone (the enrollment
//!   record, credentials held until a PIN exists).
//!
//! History: the vault itself records only `documents_wiped` (in the same transaction
//! as the wipe); the wallet records the other events.

pub mod document;
pub mod envelope;
pub mod kdf;
pub mod keystore;
pub mod lockout;
pub mod pin;
pub mod sealed;
pub mod session;

pub use document::UnlockedKey;
pub use kdf::KdfParams;
pub use keystore::{
    device_secret, FileKeyStore, KeyStore, KeyStoreError, KeyStoreKind, MemoryKeyStore,
};
pub use pin::{Pin, PinError};
pub use session::Session;

use crate::clock::Clock;
use crate::secret::{SecretBytes, SecretString};
use crate::store::history::HistoryKind;
use crate::store::vault_rows as rows;
use crate::store::{Store, StoreError};
use crate::vault::lockout::LockoutView;
use chrono::{DateTime, Utc};
use envelope::{Envelope, EnvelopeError};
use rusqlite::Connection;
use std::sync::Arc;

/// Longest document id, in bytes.
pub const MAX_ID_LEN: usize = 128;

/// Vault failures. Messages never contain a PIN, key or document.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(transparent)]
    Pin(#[from] PinError),
    #[error("wrong PIN")]
    WrongPin(LockoutView),
    #[error("too many wrong PINs; try again later")]
    LockedOut(LockoutView),
    #[error("the cached documents were wiped after too many wrong PINs")]
    Wiped,
    #[error("no vault has been created yet")]
    NotCreated,
    #[error("vault data is corrupt or was made on another device")]
    Corrupt,
    #[error("KDF parameters are below the minimum for a new vault")]
    WeakKdfParams,
    #[error("document id must be 1-128 bytes")]
    InvalidId,
    #[error("vault crypto failure")]
    Crypto,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
}

impl From<EnvelopeError> for VaultError {
    fn from(e: EnvelopeError) -> Self {
        match e {
            EnvelopeError::Corrupt | EnvelopeError::WrongPin => VaultError::Corrupt,
            EnvelopeError::Seal => VaultError::Crypto,
        }
    }
}

impl From<document::DocumentError> for VaultError {
    fn from(e: document::DocumentError) -> Self {
        match e {
            document::DocumentError::Corrupt => VaultError::Corrupt,
            document::DocumentError::Seal => VaultError::Crypto,
        }
    }
}

/// The key-store name of the second copy of the wrong-PIN count (4 bytes, big endian).
pub const KS_PIN_FAILURES: &str = "ikd.pin_failures";

/// Why documents were wiped (the history `detail`).
const WIPE_TOO_MANY: &str = "too_many_wrong_pins";
const WIPE_REQUESTED: &str = "requested";

/// The vault over a [`Store`], a [`KeyStore`] (device secret) and a [`Clock`].
pub struct Vault {
    store: Arc<Store>,
    keystore: Arc<dyn KeyStore>,
    clock: Arc<dyn Clock>,
    params: KdfParams,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("store", &self.store)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

enum Gate {
    Proceed,
    Locked(LockoutView),
    Wiped,
}

impl Vault {
    /// A vault that wraps with the default (OWASP floor) KDF parameters.
    pub fn new(store: Arc<Store>, keystore: Arc<dyn KeyStore>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            keystore,
            clock,
            params: KdfParams::default(),
        }
    }

    /// The parameters used for new wraps (create, change PIN, re-wrap of an older
    /// envelope). Opening always uses the parameters stored in the envelope.
    pub fn with_kdf_params(mut self, params: KdfParams) -> Self {
        self.params = params;
        self
    }

    pub fn kdf_params(&self) -> KdfParams {
        self.params
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Seals a small record under the device secret ([`sealed`], format v1).
    pub fn seal_record(&self, name: &str, plain: &[u8]) -> Result<String, VaultError> {
        let ds = device_secret(self.keystore.as_ref())?;
        sealed::seal(&ds, name, plain).map_err(|_| VaultError::Crypto)
    }

    /// Opens a record made by [`Vault::seal_record`].
    pub fn open_record(&self, name: &str, sealed_text: &str) -> Result<SecretBytes, VaultError> {
        let ds = device_secret(self.keystore.as_ref())?;
        sealed::open(&ds, name, sealed_text).map_err(|_| VaultError::Corrupt)
    }

    /// A vault (envelope) exists.
    pub fn exists(&self) -> Result<bool, VaultError> {
        Ok(self.store.has_envelope()?)
    }

    /// The documents were wiped; fetch them again after the resident re-authenticates.
    pub fn documents_wiped(&self) -> Result<bool, VaultError> {
        Ok(self.store.documents_wiped()?)
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The key store's copy of the wrong-PIN count (0 when there is none).
    fn ks_failures(&self) -> Result<u32, VaultError> {
        match self.keystore.get(KS_PIN_FAILURES)? {
            None => Ok(0),
            Some(b) => {
                let bytes: [u8; 4] = b
                    .expose()
                    .as_slice()
                    .try_into()
                    .map_err(|_| VaultError::Corrupt)?;
                Ok(u32::from_be_bytes(bytes))
            }
        }
    }

    fn set_ks_failures(&self, failures: u32) -> Result<(), VaultError> {
        let v = SecretBytes::new(failures.to_be_bytes().to_vec());
        Ok(self.keystore.put(KS_PIN_FAILURES, &v)?)
    }

    fn check_new_params(&self) -> Result<(), VaultError> {
        if self.params.allowed_for_new_vault() {
            Ok(())
        } else {
            Err(VaultError::WeakKdfParams)
        }
    }

    /// Creates the vault with a new random document key under `pin`, replacing any
    /// previous vault and its documents (one transaction); the attempt counter and
    /// the `documents_wiped` flag start over. Returns the open key.
    pub fn create(&self, pin: &Pin) -> Result<UnlockedKey, VaultError> {
        self.create_with(pin, &[], |_| Ok(()))
    }

    /// [`Self::create`], and in the same transaction: stores `docs` under the new key
    /// and runs `also` (the caller's own writes, e.g. its state change). Nothing is
    /// written unless all of it succeeds, so a failure (or a crash) midway leaves the
    /// store exactly as it was.
    pub fn create_with(
        &self,
        pin: &Pin,
        docs: &[(&str, &[u8])],
        also: impl FnOnce(&Connection) -> Result<(), VaultError>,
    ) -> Result<UnlockedKey, VaultError> {
        self.check_new_params()?;
        for (id, _) in docs {
            Self::check_id(id)?;
        }
        let ds = keystore::device_secret(self.keystore.as_ref())?;
        let key = UnlockedKey::generate()?;
        let env = Envelope::seal(&key, pin.expose(), &self.params, &ds)?;
        let sealed = docs
            .iter()
            .map(|(id, plain)| Ok((*id, document::seal(&key, id, 1, plain)?)))
            .collect::<Result<Vec<_>, VaultError>>()?;
        let now = self.now();
        let ks_failures = self.ks_failures()?;
        self.store.with_tx(|tx| -> Result<(), VaultError> {
            if ks_failures > 0 {
                self.set_ks_failures(0)?;
            }
            let old = rows::read_attempts(tx)?;
            rows::delete_documents(tx)?;
            rows::write_envelope(tx, &env)?;
            let mut a = rows::AttemptsRow {
                total_attempts: old.total_attempts,
                ..Default::default()
            };
            lockout::reset(&mut a, now);
            rows::write_attempts(tx, &a)?;
            rows::set_documents_wiped(tx, false)?;
            for (id, row) in &sealed {
                rows::write_document(tx, id, row, now)?;
            }
            also(tx)
        })?;
        Ok(key)
    }

    /// Opens the vault. Refused without looking at the PIN while a wait runs. A wrong
    /// PIN is counted (committed) before the answer is returned; a right one resets
    /// the count. Attempts on one store are serialized. An envelope with
    /// weaker KDF parameters than [`Self::kdf_params`] is re-wrapped on success.
    pub fn unlock(&self, pin: &SecretString) -> Result<UnlockedKey, VaultError> {
        let (key, env, ds) = self.open_key(pin.expose())?;
        if env.kdf.weaker_than(&self.params) && self.params.allowed_for_new_vault() {
            let bytes = Envelope::seal(&key, pin.expose(), &self.params, &ds)?;
            self.store.with_conn(|c| rows::write_envelope(c, &bytes))?;
        }
        Ok(key)
    }

    /// The envelope needs a re-wrap to reach the current parameters.
    pub fn needs_rewrap(&self) -> Result<bool, VaultError> {
        let (env, _) = self.load_envelope()?;
        Ok(env.kdf.weaker_than(&self.params))
    }

    /// Changes the PIN: checks `old` (counted like an unlock), then makes a new
    /// document key, re-encrypts every document under it (each version up by one) and
    /// wraps it under `new` with fresh salt and the current parameters, all in one
    /// transaction. So an old envelope (a backup, a restored database) with the old
    /// PIN opens only the old key, which opens none of today's documents. Returns the
    /// new key (an open session must switch to it).
    pub fn change_pin(&self, old: &SecretString, new: &Pin) -> Result<UnlockedKey, VaultError> {
        self.change_pin_with(old, new, |_| Ok(()))
    }

    /// [`Self::change_pin`], with the caller's `also` in the same transaction as the
    /// new envelope and documents (e.g. its history entry): all land, or nothing.
    pub fn change_pin_with(
        &self,
        old: &SecretString,
        new: &Pin,
        also: impl FnOnce(&Connection) -> Result<(), VaultError>,
    ) -> Result<UnlockedKey, VaultError> {
        self.check_new_params()?;
        let (old_key, _env, ds) = self.open_key(old.expose())?;
        let new_key = UnlockedKey::generate()?;
        let bytes = Envelope::seal(&new_key, new.expose(), &self.params, &ds)?;
        let now = self.now();
        self.store.with_tx(|tx| -> Result<(), VaultError> {
            for id in rows::document_ids(tx)? {
                let Some(row) = rows::read_document(tx, &id)? else {
                    continue;
                };
                let plain = document::open(&old_key, &id, &row)?;
                let version = row.version.checked_add(1).ok_or(VaultError::Corrupt)?;
                let sealed = document::seal(&new_key, &id, version, plain.expose())?;
                rows::write_document(tx, &id, &sealed, now)?;
            }
            rows::write_envelope(tx, &bytes)?;
            also(tx)
        })?;
        Ok(new_key)
    }

    fn load_envelope(&self) -> Result<(Envelope, SecretBytes), VaultError> {
        let (bytes, wiped) = self.store.with_conn(|c| {
            Ok::<_, StoreError>((rows::read_envelope(c)?, rows::documents_wiped(c)?))
        })?;
        let Some(bytes) = bytes else {
            return Err(if wiped {
                VaultError::Wiped
            } else {
                VaultError::NotCreated
            });
        };
        let ds =
            keystore::existing_device_secret(self.keystore.as_ref())?.ok_or(VaultError::Corrupt)?;
        Ok((Envelope::parse(&bytes, &ds)?, ds))
    }

    fn open_key(&self, pin: &str) -> Result<(UnlockedKey, Envelope, SecretBytes), VaultError> {
        let (env, ds) = self.load_envelope()?;
        pin::check_format(pin)?;
        // One PIN check at a time per store: parallel attempts cannot all slip past
        // the gate before the first failure is counted.
        let _one_at_a_time = self.store.attempt_guard();
        let now = self.now();
        let ks_failures = self.ks_failures()?;
        let gate = self.store.with_tx(|tx| -> Result<Gate, VaultError> {
            let mut a = rows::read_attempts(tx)?;
            let rebased =
                lockout::observe(&mut a, now) | lockout::raise_to(&mut a, ks_failures, now);
            if lockout::remaining(&a, now).is_some() {
                rows::write_attempts(tx, &a)?;
                return Ok(Gate::Locked(lockout::view(&a, now)));
            }
            if a.failures >= lockout::WIPE_AFTER {
                wipe_in(tx, now, WIPE_TOO_MANY)?;
                return Ok(Gate::Wiped);
            }
            if rebased {
                rows::write_attempts(tx, &a)?;
            }
            Ok(Gate::Proceed)
        })?;
        match gate {
            Gate::Proceed => {}
            Gate::Locked(v) => return Err(VaultError::LockedOut(v)),
            Gate::Wiped => return Err(VaultError::Wiped),
        }
        // The outcome is recorded (and committed, synchronous = FULL) before it is
        // returned, so nothing learns whether the PIN was right before the counter
        // has it; killing the app mid-check gives no answer and so no free guess.
        match env.unwrap_key(pin, &ds) {
            Ok(key) => {
                let now = self.now();
                self.store.with_tx(|tx| -> Result<(), VaultError> {
                    if ks_failures > 0 {
                        self.set_ks_failures(0)?;
                    }
                    let mut a = rows::read_attempts(tx)?;
                    // Nothing to write on the usual path (no failures pending).
                    if a.failures > 0 || a.locked_until.is_some() || a.last_failure_at.is_some() {
                        lockout::observe(&mut a, now);
                        lockout::reset(&mut a, now);
                        rows::write_attempts(tx, &a)?;
                    }
                    Ok(())
                })?;
                Ok((key, env, ds))
            }
            Err(EnvelopeError::WrongPin) => {
                let now = self.now();
                self.store
                    .with_tx(|tx| -> Result<VaultError, VaultError> {
                        let mut a = rows::read_attempts(tx)?;
                        lockout::observe(&mut a, now);
                        lockout::raise_to(&mut a, ks_failures, now);
                        lockout::record_failure(&mut a, now);
                        // The key store's copy first: if it cannot be written, no
                        // answer is given (and the row is not written either).
                        self.set_ks_failures(a.failures)?;
                        if a.failures >= lockout::WIPE_AFTER {
                            rows::write_attempts(tx, &a)?;
                            wipe_in(tx, now, WIPE_TOO_MANY)?;
                            return Ok(VaultError::Wiped);
                        }
                        rows::write_attempts(tx, &a)?;
                        Ok(VaultError::WrongPin(lockout::view(&a, now)))
                    })
                    .and_then(Err)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The lockout as the PIN pad shows it.
    pub fn lockout_state(&self) -> Result<LockoutView, VaultError> {
        let now = self.now();
        let ks_failures = self.ks_failures()?;
        self.store.with_tx(|tx| {
            let mut a = rows::read_attempts(tx)?;
            // Save the observed time while a wait runs (so time seen passing counts
            // even if the clock is turned back later) or after a re-base.
            let rebased =
                lockout::observe(&mut a, now) | lockout::raise_to(&mut a, ks_failures, now);
            if rebased || lockout::remaining(&a, now).is_some() {
                rows::write_attempts(tx, &a)?;
            }
            Ok(lockout::view(&a, now))
        })
    }

    /// Deletes the documents and the envelope (one transaction) and sets
    /// `documents_wiped`. Settings, enrollment state, history and the device secret
    /// stay.
    pub fn wipe_documents(&self) -> Result<(), VaultError> {
        let now = self.now();
        Ok(self.store.with_tx(|tx| wipe_in(tx, now, WIPE_REQUESTED))?)
    }

    fn check_id(id: &str) -> Result<(), VaultError> {
        if id.is_empty() || id.len() > MAX_ID_LEN {
            Err(VaultError::InvalidId)
        } else {
            Ok(())
        }
    }

    /// Encrypts and stores `plaintext` as document `id` (its version goes up by one).
    pub fn put_document(
        &self,
        key: &UnlockedKey,
        id: &str,
        plaintext: &[u8],
    ) -> Result<(), VaultError> {
        self.put_documents(key, &[(id, plaintext)], |_| Ok(()))
    }

    /// Stores several documents (each version up by one) and runs the caller's
    /// `also`, all in one transaction: all of them are replaced, or none.
    pub fn put_documents(
        &self,
        key: &UnlockedKey,
        docs: &[(&str, &[u8])],
        also: impl FnOnce(&Connection) -> Result<(), VaultError>,
    ) -> Result<(), VaultError> {
        for (id, _) in docs {
            Self::check_id(id)?;
        }
        let now = self.now();
        self.store.with_tx(|tx| -> Result<(), VaultError> {
            if rows::read_envelope(tx)?.is_none() {
                return Err(if rows::documents_wiped(tx)? {
                    VaultError::Wiped
                } else {
                    VaultError::NotCreated
                });
            }
            for (id, plaintext) in docs {
                let version = rows::document_version(tx, id)?
                    .unwrap_or(0)
                    .checked_add(1)
                    .ok_or(VaultError::Corrupt)?;
                let row = document::seal(key, id, version, plaintext)?;
                rows::write_document(tx, id, &row, now)?;
            }
            also(tx)
        })
    }

    /// Decrypts document `id` (`None` if there is none). A record that does not
    /// decrypt (tampered, swapped, other key) is [`VaultError::Corrupt`].
    pub fn get_document(
        &self,
        key: &UnlockedKey,
        id: &str,
    ) -> Result<Option<SecretBytes>, VaultError> {
        Self::check_id(id)?;
        let row = self.store.with_conn(|c| rows::read_document(c, id))?;
        row.map(|r| document::open(key, id, &r).map_err(VaultError::from))
            .transpose()
    }

    /// The stored document ids, sorted.
    pub fn document_ids(&self) -> Result<Vec<String>, VaultError> {
        Ok(self.store.with_conn(rows::document_ids)?)
    }

    /// Deletes one document; `true` if it existed.
    pub fn delete_document(&self, id: &str) -> Result<bool, VaultError> {
        Self::check_id(id)?;
        Ok(self.store.with_conn(|c| rows::delete_document(c, id))?)
    }
}

fn wipe_in(c: &Connection, now: DateTime<Utc>, why: &str) -> Result<(), StoreError> {
    rows::delete_documents(c)?;
    rows::delete_envelope(c)?;
    rows::set_documents_wiped(c, true)?;
    crate::store::db::append_history(c, now, HistoryKind::DocumentsWiped, Some(why))
}
