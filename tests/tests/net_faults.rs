//! Issue 13: the resident's journey (core client) through a fault-injecting proxy on
//! loopback, one test per network profile, with the effects checked in the server's
//! store: one enrollment, one code try per code entered, one device, one pair of
//! tokens, two credentials, both documents verified.
#![allow(clippy::unwrap_used)]

use ikd_server::demo::{DEMO_KK, SITI};
use ikd_tests::faultnet::Profile;
use ikd_tests::{netjourney, Harness};
use std::time::Duration;

async fn journey_under(profile: Profile) {
    let h = Harness::start().await;
    let run = netjourney::run(&h, profile, SITI.nik, "siti@example.com").await;
    assert_eq!(run.ktp_nik, SITI.nik, "{profile:?}");
    assert_eq!(run.kk_number, DEMO_KK);
    assert_eq!(
        run.wrong_code_attempts_left, 4,
        "one try for the wrong code"
    );
    assert_eq!(h.count("SELECT COUNT(*) FROM enrollments"), 1);
    assert_eq!(h.count("SELECT COUNT(*) FROM devices"), 1);
    assert_eq!(
        h.count("SELECT COUNT(*) FROM tokens"),
        2,
        "one access, one refresh"
    );
    assert_eq!(
        h.count("SELECT COUNT(*) FROM credentials"),
        2,
        "KTP and KK, once each"
    );
    if !matches!(profile, Profile::Clean | Profile::Slow { .. }) {
        assert!(run.faults > 0, "{profile:?} injected nothing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_on_a_clean_link() {
    journey_under(Profile::Clean).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_on_2g() {
    journey_under(Profile::TWO_G).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_when_every_third_answer_is_lost() {
    journey_under(Profile::FLAKY).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_through_a_blackhole() {
    // The 5th answer (the wrong code's) is swallowed after the server spent the try.
    journey_under(Profile::blackhole(4, Duration::from_secs(3))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_when_every_third_answer_is_cut() {
    journey_under(Profile::TRUNCATED).await;
}

/// Answers of 512 B and more are compressed when the client accepts it (br or gzip), as
/// seen on the wire; a smaller one is not (compressing it would not make it shorter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_compressed_on_the_wire() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let h = Harness::start().await;
    // The OpenAPI document (tens of KB), the issuer metadata (~900 B) and the
    // authorization server's (~360 B).
    for (path, accept, want) in [
        ("/openapi.json", "br", Some("br")),
        ("/openapi.json", "gzip", Some("gzip")),
        ("/openapi.json", "identity", None),
        ("/.well-known/openid-credential-issuer", "br", Some("br")),
        ("/.well-known/oauth-authorization-server", "br", None),
    ] {
        let mut s = tokio::net::TcpStream::connect(h.server.addr).await.unwrap();
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: {accept}\r\nConnection: close\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await.unwrap();
        let text = String::from_utf8_lossy(&raw).to_ascii_lowercase();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let enc = head
            .lines()
            .find_map(|l| l.strip_prefix("content-encoding: "))
            .map(str::trim);
        // Accepted but not compressed: only because it is small.
        if want.is_none() && accept != "identity" {
            let len = body.len();
            assert!(len < usize::from(ikd_server::api::COMPRESS_FROM), "{len}");
        }
        assert_eq!(enc, want, "{path} {accept}: {head}");
    }
}
