//! Officer accounts: passwords (Argon2id), login, and sessions (a random id in an
//! HttpOnly cookie; its SHA-256 in the store, with an expiry).

use crate::crypto::{random_bytes, random_token, sha256_hex};
use crate::error::ApiErr;
use crate::state::AppState;
use crate::store::{Officer, Store, StoreError};
use axum::http::StatusCode;
use chrono::Duration;
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "ikd_officer";
pub const SESSION_HOURS: i64 = 12;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("password hash: {0}")]
    Hash(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

/// Hashes a password with Argon2id (default parameters, random salt).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(&random_bytes::<16>())
        .map_err(|e| AuthError::Hash(format!("salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(format!("argon2: {e}")))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match PasswordHash::new(phc) {
        Ok(h) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// Adds (or resets) an officer account.
pub fn add_officer(
    store: &dyn Store,
    username: &str,
    password: &str,
    desk_id: &str,
    desk_name: &str,
) -> Result<(), AuthError> {
    let password_hash = hash_password(password)?;
    store.put_officer(&Officer {
        username: username.to_owned(),
        password_hash,
        desk_id: desk_id.to_owned(),
        desk_name: desk_name.to_owned(),
    })?;
    Ok(())
}

/// An Argon2id hash of a random password, so unknown names cost as much as wrong
/// passwords.
fn dummy_hash() -> String {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
        .clone()
}

/// Checks a name and password (rate-limited per client IP; an unknown name takes as
/// long as a wrong password) and opens a session: the officer and the session id for
/// the cookie.
pub async fn login(
    state: &AppState,
    peer: SocketAddr,
    username: &str,
    password: &str,
) -> Result<(Officer, String), ApiErr> {
    let now = state.clock.now();
    state.limit_per_ip("login", peer, 10, 10, now)?;
    // Per account, whatever the address and the node: after 5 failures in a row the
    // account is locked (15 min, doubling; kept in the store); unknown names are
    // counted alike (hashed, so the store keeps no typed names).
    let account = sha256_hex(format!("login|{}", username.trim().to_lowercase()).as_bytes());
    if let Some(until) = state.store.login_locked_until(&account)? {
        if until > now {
            return Err(ApiErr::rate_limited(
                (until - now).num_seconds().max(1) as u64
            ));
        }
    }
    let officer = state.store.officer(username)?;
    let hash = officer
        .as_ref()
        .map(|o| o.password_hash.clone())
        // Verify against a dummy hash too, so unknown names take as long.
        .unwrap_or_else(dummy_hash);
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let officer = match (ok, officer) {
        (true, Some(o)) => o,
        _ => {
            if let Some(until) = state.store.login_failed(&account, now)? {
                tracing::warn!(until = %until.to_rfc3339(), "officer account locked after failed logins");
            }
            tracing::info!("officer login refused");
            return Err(ApiErr::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Nama pengguna atau kata sandi salah.",
            ));
        }
    };
    state.store.login_cleared(&account)?;
    let sid = random_token();
    state.store.insert_session(
        &sha256_hex(sid.as_bytes()),
        &officer.username,
        now + Duration::hours(SESSION_HOURS),
    )?;
    tracing::info!(officer = %officer.username, "officer logged in");
    Ok((officer, sid))
}

/// The officer of a session id (the cookie's value), if the session is live.
pub fn officer_of(state: &AppState, session_id: Option<&str>) -> Result<Officer, ApiErr> {
    let sid = session_id.ok_or_else(ApiErr::unauthorized)?;
    state
        .store
        .session_officer(&sha256_hex(sid.as_bytes()), state.clock.now())?
        .ok_or_else(ApiErr::unauthorized)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn passwords_verify() {
        let h = hash_password("petugas123").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("petugas123", &h));
        assert!(!verify_password("petugas124", &h));
    }
}
