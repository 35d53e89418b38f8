//! Child process for `tests/tests/crash_consistency.rs`: opens the wallet in a data dir
//! that the parent activated, unlocks it, prints `ready` on stdout, then repeats one
//! operation until it is killed (SIGKILL from the parent at a random moment):
//!
//!     crash_child DATA_DIR BACKEND_URL refresh PIN
//!     crash_child DATA_DIR BACKEND_URL pin CURRENT_PIN OTHER_PIN
//!
//! `refresh` loops `refresh_documents`; `pin` loops `change_pin`, alternating between
//! the two PINs. Uses the test KDF parameters, like the parent that created the vault.
#![allow(clippy::unwrap_used)]

use ikd_core::clock::SystemClock;
use ikd_core::secret::SecretString;
use ikd_core::vault::{FileKeyStore, KdfParams};
use ikd_core::wallet::{Wallet, WalletConfig};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: crash_child DATA_DIR BACKEND_URL (refresh PIN | pin CURRENT OTHER)");
        std::process::exit(2);
    }
    let dir = PathBuf::from(&args[1]);
    let w = Wallet::open(WalletConfig {
        data_dir: dir.clone(),
        backend_url: args[2].clone(),
        dev_build: true,
        clock: Arc::new(SystemClock),
        keystore: Arc::new(FileKeyStore::in_dir(&dir)),
        kdf: Some(KdfParams::insecure_for_tests()),
        issuer_url: None,
    })
    .unwrap();
    let secret = |s: &str| SecretString::new(s.to_owned());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut out = std::io::stdout();
    match args[3].as_str() {
        "refresh" => {
            w.unlock(secret(&args[4])).unwrap();
            writeln!(out, "ready").unwrap();
            out.flush().unwrap();
            loop {
                rt.block_on(w.refresh_documents()).unwrap();
            }
        }
        "pin" if args.len() >= 6 => {
            let (mut cur, mut other) = (args[4].clone(), args[5].clone());
            w.unlock(secret(&cur)).unwrap();
            writeln!(out, "ready").unwrap();
            out.flush().unwrap();
            loop {
                w.change_pin(secret(&cur), secret(&other)).unwrap();
                std::mem::swap(&mut cur, &mut other);
            }
        }
        m => {
            eprintln!("unknown mode {m}");
            std::process::exit(2);
        }
    }
}
