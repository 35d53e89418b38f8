//! `Idempotency-Key` on state-changing POSTs (draft-ietf-httpapi-idempotency-key-header):
//! the first answer to a key is stored ([`crate::store::IdempotencyStore`], 24 h) and
//! replayed for a retry with the same key, authorization and body; the same key with
//! another body is 422, a retry while the first request still runs is 409.
//!
//! The key is optional (third-party OpenID4VCI wallets send none and get the standard
//! behaviour; a replay only repeats an answer the server already gave, so nonce and
//! DPoP rules hold for every request that runs). Stored answers hold tokens and
//! credentials, so they are sealed (AES-256-GCM) with a key derived from the
//! idempotency key, the authorization and the body, none of which is stored: a copy
//! of the database does not reveal them. 5xx and 429 answers are not kept (a retry
//! runs again).

use crate::api::BODY_LIMIT;
use crate::error::ApiErr;
use crate::state::SharedState;
use crate::store::IdemClaim;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::digest::{digest, Context, SHA256};
use ring::rand::{SecureRandom, SystemRandom};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// On a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";
/// Stored answers above this are not kept (ours are a few KB).
const ANSWER_LIMIT: usize = 1024 * 1024;

/// A key: 16 to 64 characters of A–Z a–z 0–9 `-` `_`.
/// Whether the route behind `path` needs `Authorization` (all but submit and token).
fn needs_authorization(path: &str) -> bool {
    path != ikd_proto::wire::paths::ENROLLMENTS && path != ikd_proto::wire::paths::TOKEN
}

pub fn valid_key(k: &str) -> bool {
    (16..=64).contains(&k.len())
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn hash(parts: &[&[u8]]) -> [u8; 32] {
    let mut c = Context::new(&SHA256);
    for p in parts {
        c.update(&(p.len() as u64).to_be_bytes());
        c.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(c.finish().as_ref());
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn seal(key: &[u8; 32], plain: &[u8]) -> Option<Vec<u8>> {
    let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
    let mut n = [0u8; NONCE_LEN];
    SystemRandom::new().fill(&mut n).ok()?;
    let mut buf = plain.to_vec();
    k.seal_in_place_append_tag(Nonce::assume_unique_for_key(n), Aad::empty(), &mut buf)
        .ok()?;
    let mut out = n.to_vec();
    out.extend_from_slice(&buf);
    Some(out)
}

fn open(key: &[u8; 32], sealed: &[u8]) -> Option<Vec<u8>> {
    let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
    let (n, ct) = sealed.split_at_checked(NONCE_LEN)?;
    let n = Nonce::try_assume_unique_for_key(n).ok()?;
    let mut buf = ct.to_vec();
    let plain = k.open_in_place(n, Aad::empty(), &mut buf).ok()?;
    Some(plain.to_vec())
}

fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    ApiErr::new(status, code, message).into_response()
}

/// The middleware on the state-changing routes (see [`crate::api::router`]).
pub async fn layer(State(state): State<SharedState>, req: Request, next: Next) -> Response {
    // Only the POSTs are idempotent operations; other methods get the router's 405.
    if req.method() != axum::http::Method::POST {
        return next.run(req).await;
    }
    let mut keys = req.headers().get_all(HEADER).iter();
    let Some(first) = keys.next() else {
        return next.run(req).await;
    };
    let key = match first.to_str() {
        Ok(k) if keys.next().is_none() && valid_key(k) => k.to_owned(),
        // A request without its required authorization is answered 401 by the handler
        // first (before a malformed key is judged): it changes nothing either way.
        _ if needs_authorization(req.uri().path())
            && !req.headers().contains_key(header::AUTHORIZATION) =>
        {
            return next.run(req).await;
        }
        _ => {
            return refusal(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Idempotency-Key tidak valid.",
            )
        }
    };
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Data yang dikirim terlalu besar.",
        );
    };
    let auth = parts
        .headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    let method = parts.method.as_str().as_bytes();
    let path = parts.uri.path().as_bytes();
    let scope = hex(&hash(&[b"ikd-idem-scope", method, path, key.as_bytes()]));
    let body_hash = digest(&SHA256, &body);
    let fingerprint = hex(&hash(&[b"ikd-idem-fp", auth, body_hash.as_ref()]));
    let seal_key = hash(&[b"ikd-idem-seal", key.as_bytes(), auth, body_hash.as_ref()]);

    // From the claim on, the work runs in a task of its own: a client that goes away
    // (the app killed, the link dropped) must not leave a claim without its answer
    // (each retry would be "in progress" until the claim is abandoned). The request
    // runs to the end and its answer is stored for the retry.
    tokio::spawn(claimed(
        state,
        parts,
        body,
        next,
        scope,
        fingerprint,
        seal_key,
    ))
    .await
    .unwrap_or_else(|_| ApiErr::internal().into_response())
}

/// Claims `scope` and answers: a replay, a refusal, or the request run and its answer
/// stored.
async fn claimed(
    state: SharedState,
    parts: axum::http::request::Parts,
    body: axum::body::Bytes,
    next: Next,
    scope: String,
    fingerprint: String,
    seal_key: [u8; 32],
) -> Response {
    let store = state.store.clone();
    let now = state.clock.now();
    let (s, f) = (scope.clone(), fingerprint);
    let claim =
        crate::api::blocking(move || store.idem_claim(&s, &f, now).map_err(ApiErr::from)).await;
    match claim {
        Err(e) => e.into_response(),
        Ok(IdemClaim::Mismatch) => refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "Idempotency-Key sudah dipakai untuk permintaan lain.",
        ),
        Ok(IdemClaim::InProgress) => {
            let mut r = refusal(
                StatusCode::CONFLICT,
                "idempotency_in_progress",
                "Permintaan yang sama masih diproses.",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
        Ok(IdemClaim::Replay { status, sealed }) => {
            let (Some(body), Ok(status)) = (open(&seal_key, &sealed), StatusCode::from_u16(status))
            else {
                return ApiErr::internal().into_response();
            };
            let mut r = Response::new(Body::from(body));
            *r.status_mut() = status;
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(REPLAYED, HeaderValue::from_static("true"));
            r
        }
        // Run to the end in a task of its own, so a client that goes away mid-request
        // (the app killed, the link dropped) leaves a stored answer for its retry, not
        // a claim open until it is abandoned.
        Ok(IdemClaim::New) => tokio::spawn(async move {
            let resp = next.run(Request::from_parts(parts, Body::from(body))).await;
            let (rparts, rbody) = resp.into_parts();
            let answer = axum::body::to_bytes(rbody, ANSWER_LIMIT).await;
            let status = rparts.status;
            let keep = !(status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS);
            let store = state.store.clone();
            let sealed = match (&answer, keep) {
                (Ok(a), true) => seal(&seal_key, a),
                _ => None,
            };
            let saved = crate::api::blocking(move || {
                match sealed {
                    Some(s) => store.idem_finish(&scope, status.as_u16(), &s),
                    None => store.idem_release(&scope),
                }
                .map_err(ApiErr::from)
            })
            .await;
            match (answer, saved) {
                (Ok(a), Ok(())) => Response::from_parts(rparts, Body::from(a)),
                (Err(_), _) => ApiErr::internal().into_response(),
                (_, Err(e)) => e.into_response(),
            }
        })
        .await
        .unwrap_or_else(|_| ApiErr::internal().into_response()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_and_sealing() {
        assert!(valid_key("abcdefghijklmnop"));
        assert!(valid_key("AAAA-bbbb_cccc-dd"));
        assert!(!valid_key("short"));
        assert!(!valid_key("abcdefghijklmnop qrs"));
        assert!(!valid_key(&"a".repeat(65)));
        let k = hash(&[b"x"]);
        let s = seal(&k, b"{\"a\":1}").unwrap();
        assert_eq!(open(&k, &s).unwrap(), b"{\"a\":1}");
        assert!(open(&hash(&[b"y"]), &s).is_none(), "another request's key");
        assert_ne!(hash(&[b"ab", b"c"]), hash(&[b"a", b"bc"]));
    }
}
