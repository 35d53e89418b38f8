//! OpenAPI 3.1 description of the API (utoipa).

use axum::response::{IntoResponse, Response};

pub fn document() -> serde_json::Value {
    serde_json::json!({})
}

pub async fn serve() -> Response {
    axum::Json(document()).into_response()
}
