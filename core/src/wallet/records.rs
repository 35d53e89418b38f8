//! What the wallet keeps between calls: the kv keys, the records sealed under the
//! device secret (through [`crate::vault::Vault::seal_record`]), the pinned issuer and
//! the tokens (secret types; in the vault once a PIN exists).

use super::{err, internal, Wallet};
use crate::client::Tokens;
use crate::enrollment::EnrollmentState;
use crate::error::{ErrorCode, UiError};
use crate::secret::SecretString;
use crate::store::{db, StoreError};
use crate::view::HistoryKind;
use crate::wire::{CredentialOffer, EcJwk};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The device key (PKCS#8) in the key store.
pub(super) const KS_DEVICE_KEY: &str = "ikd.device_key";
pub(super) const KV_SETTINGS: &str = "wallet.settings";
pub(super) const KV_STATE: &str = "enrollment.state";
/// Sealed [`EnrollmentRecord`].
pub(super) const KV_ENROLLMENT: &str = "enrollment.sealed";
/// Sealed [`Held`].
pub(super) const KV_PENDING: &str = "activation.sealed";
/// The registration form being typed, sealed (until submit).
pub(super) const KV_DRAFT: &str = "enrollment.draft.sealed";
/// The processed selfie ([`crate::view::SelfieView`]), sealed (until submit).
pub(super) const KV_SELFIE: &str = "enrollment.selfie.sealed";
/// The pinned [`Issuer`], sealed: a key or root changed in the file is refused.
pub(super) const KV_ISSUER: &str = "issuer.sealed";
/// Where versions before sealing kept the issuer in plain JSON (read once, then sealed).
pub(super) const KV_ISSUER_PLAIN: &str = "issuer";
/// Vault document ids.
pub(super) const DOC_KTP: &str = "ktp";
pub(super) const DOC_KK: &str = "kk";
pub(super) const DOC_TOKENS: &str = "tokens";

/// The enrollment's secrets and last status, sealed in the store.
#[derive(Serialize, Deserialize, Default, Clone)]
pub(super) struct EnrollmentRecord {
    pub(super) id: String,
    /// Bearer token for this enrollment's calls.
    pub(super) token: SecretString,
    pub(super) email_masked: Option<String>,
    pub(super) code_expires_at: Option<String>,
    pub(super) code_attempts_left: Option<u32>,
    pub(super) offer: Option<CredentialOffer>,
    /// "Lupa PIN" asked for: `offer` is the re-authentication offer whose code went by
    /// email.
    #[serde(default)]
    pub(super) pin_reset_pending: bool,
    /// While scanned at a desk: the confirmation code the officer asks to see.
    #[serde(default)]
    pub(super) desk_confirm_code: Option<String>,
    /// "Lupa PIN": the reset's code works from this time (RFC 3339), after review.
    #[serde(default)]
    pub(super) pin_reset_usable_at: Option<String>,
}

/// Credentials fetched at activation, kept (sealed) until a PIN is set.
#[derive(Serialize, Deserialize)]
pub(super) struct Held {
    pub(super) ktp: String,
    pub(super) kk: String,
    pub(super) tokens: StoredTokens,
}

/// The OpenID4VCI tokens, kept sealed (store) or in the vault only.
#[derive(Serialize, Deserialize, Clone)]
pub(super) struct StoredTokens {
    pub(super) access_token: SecretString,
    pub(super) refresh_token: Option<SecretString>,
}

impl From<Tokens> for StoredTokens {
    fn from(t: Tokens) -> Self {
        Self {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
        }
    }
}

/// The issuer pinned at activation.
#[derive(Serialize, Deserialize, Clone)]
pub(super) struct Issuer {
    pub(super) id: String,
    pub(super) jwk: EcJwk,
    /// The issuer's display name from its metadata (`display[].name`), if it has one.
    #[serde(default)]
    pub(super) name: Option<String>,
    /// The Dukcapil root (standard base64 DER) the credentials' `x5c` chain was checked
    /// against at activation; later credentials must chain to it. None: no root was
    /// configured, and only the pinned key is checked.
    #[serde(default)]
    pub(super) root: Option<String>,
}

/// The pinned issuer: the sealed record, or (once, from versions before sealing) the
/// plain one, which is then sealed and removed. None before activation.
pub(super) fn load_issuer(
    vault: &crate::vault::Vault,
    store: &crate::store::Store,
) -> Result<Option<Issuer>, UiError> {
    if let Some(sealed) = store.get_kv(KV_ISSUER)? {
        let plain = vault.open_record(KV_ISSUER, &sealed)?;
        let issuer = serde_json::from_slice(plain.expose())
            .map_err(|_| err(ErrorCode::VaultCorrupt, "issuer"))?;
        return Ok(Some(issuer));
    }
    let Some(j) = store.get_kv(KV_ISSUER_PLAIN)? else {
        return Ok(None);
    };
    let issuer: Issuer =
        serde_json::from_str(&j).map_err(|_| err(ErrorCode::VaultCorrupt, "issuer"))?;
    let sealed = vault.seal_record(KV_ISSUER, to_json(&issuer)?.as_bytes())?;
    store.set_kv(KV_ISSUER, &sealed)?;
    store.delete_kv(KV_ISSUER_PLAIN)?;
    Ok(Some(issuer))
}

/// How the documents screen names the issuer: its display name with its host, or the
/// host alone (never a bare URL).
pub(super) fn issuer_label(name: Option<&str>, issuer_url: &str) -> String {
    let host = url::Url::parse(issuer_url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
        })
        .unwrap_or_else(|| issuer_url.to_owned());
    match name {
        Some(n) => format!("{n} ({host})"),
        None => host,
    }
}

pub(super) fn to_json<T: Serialize>(v: &T) -> Result<String, UiError> {
    serde_json::to_string(v).map_err(|_| internal("serialize"))
}

impl Wallet {
    /// `v` as JSON, sealed as record `name`.
    pub(super) fn seal_json<T: Serialize>(&self, name: &str, v: &T) -> Result<String, UiError> {
        let json = SecretString::new(to_json(v)?);
        Ok(self.vault.seal_record(name, json.expose().as_bytes())?)
    }

    /// Opens record `name` and reads its JSON.
    pub(super) fn open_json<T: DeserializeOwned>(
        &self,
        name: &str,
        sealed: &str,
    ) -> Result<T, UiError> {
        let plain = self.vault.open_record(name, sealed)?;
        serde_json::from_slice(plain.expose()).map_err(|_| err(ErrorCode::VaultCorrupt, "record"))
    }

    pub(super) fn state(&self) -> Result<EnrollmentState, UiError> {
        match self.store.get_kv(KV_STATE)? {
            Some(j) => Ok(EnrollmentState::from_json(&j)?),
            None => Ok(EnrollmentState::Draft),
        }
    }

    pub(super) fn record(&self) -> Result<Option<EnrollmentRecord>, UiError> {
        match self.store.get_kv(KV_ENROLLMENT)? {
            Some(s) => Ok(Some(self.open_json(KV_ENROLLMENT, &s)?)),
            None => Ok(None),
        }
    }

    pub(super) fn record_required(&self) -> Result<EnrollmentRecord, UiError> {
        self.record()?
            .ok_or_else(|| err(ErrorCode::InvalidState, "no enrollment yet"))
    }

    /// Writes state and record in one transaction.
    pub(super) fn save(
        &self,
        state: &EnrollmentState,
        rec: &EnrollmentRecord,
    ) -> Result<(), UiError> {
        let sealed = self.seal_json(KV_ENROLLMENT, rec)?;
        let state_json = state.to_json();
        Ok(self.store.set_kv_many(&[
            (KV_STATE, state_json.as_str()),
            (KV_ENROLLMENT, sealed.as_str()),
        ])?)
    }

    /// [`Self::save`], a history entry and the end of the kept `steps` and of the kv
    /// rows `kv_ended`, in one transaction.
    pub(super) fn save_with_history_ending(
        &self,
        state: &EnrollmentState,
        rec: &EnrollmentRecord,
        kind: HistoryKind,
        steps: &[&str],
        kv_ended: &[&str],
    ) -> Result<(), UiError> {
        let sealed = self.seal_json(KV_ENROLLMENT, rec)?;
        let state_json = state.to_json();
        let now = self.now();
        self.store.with_tx(|tx| -> Result<(), StoreError> {
            db::set_kv(tx, KV_STATE, &state_json)?;
            db::set_kv(tx, KV_ENROLLMENT, &sealed)?;
            db::append_history(tx, now, kind, None)?;
            for s in steps.iter().copied() {
                db::delete_kv(tx, &super::steps::kv_step(s))?;
            }
            for k in kv_ended.iter().copied() {
                db::delete_kv(tx, k)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    pub(super) fn held(&self) -> Result<Option<Held>, UiError> {
        match self.store.get_kv(KV_PENDING)? {
            Some(s) => Ok(Some(self.open_json(KV_PENDING, &s)?)),
            None => Ok(None),
        }
    }

    pub(super) fn issuer(&self) -> Result<Issuer, UiError> {
        load_issuer(&self.vault, &self.store)?
            .ok_or_else(|| err(ErrorCode::InvalidState, "no issuer pinned"))
    }

    pub(super) fn tokens(&self) -> Result<StoredTokens, UiError> {
        let t = SecretString::new(self.doc(DOC_TOKENS)?);
        serde_json::from_str(t.expose()).map_err(|_| err(ErrorCode::VaultCorrupt, "tokens"))
    }
}
