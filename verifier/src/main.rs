//! `ikd-verifier demo [--addr 127.0.0.1:8790] [--trust-anchor-out rp-ca.pem]
//! [--issuer URL]... [--issuer-root dukcapil-root.pem] [--cors-origin ORIGIN]...`
use clap::{Parser, Subcommand};
use ikd_verifier::check::IssuerTrust;
use ikd_verifier::{demo, start, VerifierConfig};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "ikd-verifier",
    about = "IKD reference verifier (OpenID4VP 1.0)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serves the "Verifikasi identitas" demo with a fresh relying-party CA and leaf.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8790")]
        addr: std::net::SocketAddr,
        /// Where to write the relying-party CA (point the wallet's IKD_RP_TRUST_ANCHORS here).
        #[arg(long, default_value = "ikd-verifier-rp-ca.pem")]
        trust_anchor_out: PathBuf,
        /// Issuers whose /.well-known/jwt-vc-issuer keys are trusted.
        #[arg(long = "issuer")]
        issuers: Vec<String>,
        /// Dukcapil root(s) for credentials with an x5c header (PEM).
        #[arg(long)]
        issuer_root: Option<PathBuf>,
        /// Web origins allowed to call the JSON API (CORS) [default: the IKD app's].
        #[arg(long = "cors-origin")]
        cors_origins: Vec<String>,
        /// The organisation named in the verifier's certificate.
        #[arg(long, default_value = "Bank Contoh Indonesia (demo)")]
        name: String,
    },
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let Cmd::Demo {
        addr,
        trust_anchor_out,
        issuers,
        issuer_root,
        cors_origins,
        name,
    } = Cli::parse().cmd;
    let cors_origins = if cors_origins.is_empty() {
        ikd_verifier::APP_ORIGINS.map(str::to_owned).to_vec()
    } else {
        cors_origins
    };
    let pki = demo::generate("IKD Demo Relying Party CA", &name, "verifier.localhost")?;
    std::fs::write(&trust_anchor_out, &pki.ca_pem)?;
    let roots = match issuer_root {
        Some(p) => ikd_proto::x509::TrustAnchors::from_pem(&std::fs::read_to_string(p)?)?,
        None => Default::default(),
    };
    let running = start(
        VerifierConfig {
            signer: pki.signer,
            trust: IssuerTrust { roots, issuers },
            name,
            public_url: None,
            cors_origins,
        },
        addr,
    )
    .await?;
    println!(
        "ikd-verifier: {} (trust anchor for wallets: {})",
        running.base_url,
        trust_anchor_out.display()
    );
    tokio::signal::ctrl_c().await?;
    running.shutdown().await;
    Ok(())
}
