//! Health for a load balancer: `GET /healthz` (the process answers) and `GET /readyz`
//! (the store answers and its schema is the one this build migrates to).

use crate::state::SharedState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Health {
    /// "ok", or for /readyz "unavailable" / "schema_mismatch".
    pub status: String,
    /// "sqlite" or "postgres" (/readyz only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// The database's schema version and the one this build expects (/readyz only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_schema_version: Option<i64>,
}

/// GET /healthz
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn healthz() -> Response {
    super::no_store(axum::Json(Health {
        status: "ok".into(),
        store: None,
        schema_version: None,
        expected_schema_version: None,
    }))
}

/// GET /readyz
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "The store answers and its migrations are current", body = Health),
        (status = 503, description = "The store does not answer, or its schema is not this build's", body = Health),
    ))]
pub async fn readyz(State(state): State<SharedState>) -> Response {
    let store = state.store.backend().to_owned();
    let ready = tokio::task::spawn_blocking(move || state.store.readiness()).await;
    let (code, h) = match ready {
        Ok(Ok(r)) => {
            let current = r.schema_version == r.expected_version;
            (
                if current {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                },
                Health {
                    status: if current { "ok" } else { "schema_mismatch" }.into(),
                    store: Some(store),
                    schema_version: Some(r.schema_version),
                    expected_schema_version: Some(r.expected_version),
                },
            )
        }
        other => {
            if let Ok(Err(e)) = other {
                tracing::warn!(error = %e, "store not ready");
            }
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Health {
                    status: "unavailable".into(),
                    store: Some(store),
                    schema_version: None,
                    expected_schema_version: None,
                },
            )
        }
    };
    let mut resp = super::no_store(axum::Json(h));
    *resp.status_mut() = code;
    resp.into_response()
}
