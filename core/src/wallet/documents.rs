//! The documents behind the PIN: setting, checking and changing the PIN, and reading
//! KTP, KK and history (each credential checked again with the pinned issuer key).

use super::records::{issuer_label, to_json, DOC_KK, DOC_KTP, DOC_TOKENS, KV_PENDING, KV_STATE};
use super::{err, Wallet};
use crate::credential::model::{Kk, Ktp};
use crate::enrollment::EnrollmentState;
use crate::error::{ErrorCode, UiError};
use crate::identity::nik;
use crate::sdjwt;
use crate::secret::SecretString;
use crate::store::db;
use crate::vault::{self, Pin, UnlockedKey};
use crate::view::{AppState, HistoryEntry, HistoryKind, HomeView, KkView, KtpView};
use chrono::NaiveDate;

impl Wallet {
    /// Runs `f` with the unlocked document key (the lock is held only for `f`).
    pub(super) fn with_key<T>(
        &self,
        f: impl FnOnce(&UnlockedKey) -> Result<T, UiError>,
    ) -> Result<T, UiError> {
        let inner = self.inner();
        let key = inner
            .session
            .as_ref()
            .ok_or_else(|| err(ErrorCode::VaultLocked, "the documents are locked"))?;
        f(key)
    }

    pub(super) fn doc(&self, id: &str) -> Result<String, UiError> {
        let bytes = self
            .with_key(|key| Ok(self.vault.get_document(key, id)?))?
            .ok_or_else(|| err(ErrorCode::NoDocuments, "no documents"))?;
        String::from_utf8(bytes.expose().clone()).map_err(|_| err(ErrorCode::VaultCorrupt, "doc"))
    }

    pub(super) fn verify(&self, sd_jwt: &str) -> Result<sdjwt::Verified, UiError> {
        let issuer = self.issuer()?;
        let device = self.device().public_jwk();
        let v = sdjwt::verify(sd_jwt, &issuer.jwk, Some(&device), self.now())?;
        if v.issuer != issuer.id {
            return Err(err(
                ErrorCode::CredentialInvalid,
                "the credential's iss is not the pinned issuer",
            ));
        }
        Ok(v)
    }

    pub(super) fn issuer_display(&self, issuer_url: &str) -> String {
        let name = self.issuer().ok().and_then(|i| i.name);
        issuer_label(name.as_deref(), issuer_url)
    }

    pub(super) fn birth_date_of(ktp: &Ktp) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&ktp.tanggal_lahir, "%Y-%m-%d").ok()
    }

    pub(super) fn pending_birth_date(&self) -> Result<Option<NaiveDate>, UiError> {
        let Some(held) = self.held()? else {
            return Ok(None);
        };
        let v = self.verify(&held.ktp)?;
        Ok(Ktp::from_claims(v.claims)
            .ok()
            .as_ref()
            .and_then(Self::birth_date_of))
    }

    pub(super) fn unlocked_birth_date(&self) -> Option<NaiveDate> {
        let ktp = self.doc(DOC_KTP).ok()?;
        let v = self.verify(&ktp).ok()?;
        Ktp::from_claims(v.claims)
            .ok()
            .as_ref()
            .and_then(Self::birth_date_of)
    }

    pub fn check_pin(&self, pin: &SecretString) -> Result<(), UiError> {
        let birth = self
            .pending_birth_date()?
            .or_else(|| self.unlocked_birth_date());
        vault::pin::check_policy(pin.expose(), birth)?;
        Ok(())
    }

    pub fn set_pin(&self, pin: SecretString, confirm: SecretString) -> Result<AppState, UiError> {
        if pin != confirm {
            return Err(err(ErrorCode::PinMismatch, "the PINs differ"));
        }
        let held = self
            .held()?
            .ok_or_else(|| err(ErrorCode::InvalidState, "nothing to protect yet"))?;
        let birth = self.pending_birth_date()?;
        let pin = Pin::from_secret(pin, birth)?;
        let next = match self.state()?.set_pin() {
            Ok(s) => s,
            Err(_) => EnrollmentState::PinSet,
        };
        let state_json = next.to_json();
        let tokens_json = SecretString::new(to_json(&held.tokens)?);
        let now = self.now();
        // One transaction: the vault, the three documents, the held credentials gone
        // and the state at PinSet, or (on any failure, or a crash) none of it: the
        // credentials stay sealed under the device key and the PIN can be set again.
        let key = self.vault.create_with(
            &pin,
            &[
                (DOC_KTP, held.ktp.as_bytes()),
                (DOC_KK, held.kk.as_bytes()),
                (DOC_TOKENS, tokens_json.expose().as_bytes()),
            ],
            |tx| {
                db::delete_kv(tx, KV_PENDING)?;
                db::set_kv(tx, KV_STATE, &state_json)?;
                db::append_history(tx, now, HistoryKind::PinSet, None)?;
                Ok(())
            },
        )?;
        {
            let mut inner = self.inner();
            inner.session = Some(key);
            inner.last_activity = self.now();
        }
        self.app_state()
    }

    pub fn home(&self) -> Result<HomeView, UiError> {
        let ktp = self.ktp()?.ktp;
        Ok(HomeView {
            nik_masked: nik::mask(&ktp.nik),
            nama: ktp.nama,
            foto: ktp.foto,
        })
    }

    /// The KTP, its issuer signature checked again with the pinned key.
    pub fn ktp(&self) -> Result<KtpView, UiError> {
        let v = self.verify(&self.doc(DOC_KTP)?)?;
        let issuer = self.issuer_display(&v.issuer);
        Ok(KtpView {
            ktp: Ktp::from_claims(v.claims)?,
            verified: true,
            issuer,
        })
    }

    pub fn kk(&self) -> Result<KkView, UiError> {
        let v = self.verify(&self.doc(DOC_KK)?)?;
        let issuer = self.issuer_display(&v.issuer);
        Ok(KkView {
            kk: Kk::from_claims(v.claims)?,
            verified: true,
            issuer,
        })
    }

    pub fn history(&self) -> Result<Vec<HistoryEntry>, UiError> {
        Ok(self.store.history()?)
    }

    pub fn change_pin(&self, old_pin: SecretString, new_pin: SecretString) -> Result<(), UiError> {
        let birth = self.unlocked_birth_date();
        let new_pin = Pin::from_secret(new_pin, birth)?;
        let now = self.now();
        // The new key, the re-encrypted documents, the envelope and the history
        // entry: one write. An open session switches to the new key.
        let key = self.vault.change_pin_with(&old_pin, &new_pin, |tx| {
            db::append_history(tx, now, HistoryKind::PinChanged, None)?;
            Ok(())
        })?;
        let mut inner = self.inner();
        if inner.session.is_some() {
            inner.session = Some(key);
        }
        Ok(())
    }
}
