//! The officer console (server-rendered HTML, small inline JS, Bahasa Indonesia).

use axum::response::{Html, IntoResponse, Redirect, Response};

pub async fn home() -> Response {
    Redirect::to("/officer").into_response()
}

pub async fn page() -> Html<&'static str> {
    Html(CONSOLE_HTML)
}

const CONSOLE_HTML: &str =
    "<!doctype html><html lang=\"id\"><title>Konsol Petugas IKD</title><body>TODO</body></html>";
