//! The committed OpenAPI document is the one the code generates.
#![allow(clippy::unwrap_used)]

#[test]
fn committed_openapi_matches_generated() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../gen/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap();
    let generated = ikd_server::openapi::document_pretty();
    assert!(
        committed == generated,
        "gen/openapi.json is stale: run `cargo run -p ikd-server -- openapi > gen/openapi.json`"
    );
    let doc: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for p in [
        ikd_core::wire::paths::ENROLLMENTS,
        ikd_core::wire::paths::ENROLLMENT,
        ikd_core::wire::paths::TOKEN,
        ikd_core::wire::paths::CREDENTIAL,
        ikd_core::wire::paths::OFFICER_APPROVE,
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} documented");
    }
}

#[tokio::test]
async fn server_serves_the_same_document() {
    let h = ikd_tests::Harness::start().await;
    let served: serde_json::Value = reqwest::get(format!("{}/openapi.json", h.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served, ikd_server::openapi::document());
}
