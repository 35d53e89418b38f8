//! Makes `model/seeta_fd_frontal_v1.0.f16` from the model the rustface crate ships.
//!
//! ```sh
//! cargo run -p ikd-face --example pack_model -- \
//!     ~/.cargo/registry/src/*/rustface-0.1.7/model/seeta_fd_frontal_v1.0.bin
//! ```
//!
//! Prints the sizes.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: pack_model <seeta_fd_frontal_v1.0.bin> [out]");
        return ExitCode::from(2);
    };
    let out = std::env::args().nth(2).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/model/seeta_fd_frontal_v1.0.f16"
        )
        .to_owned()
    });
    let original = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let packed = match ikd_face::pack_model(&original) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(&out, &packed) {
        eprintln!("{out}: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "original {} bytes, f16 layout {} bytes -> {out}",
        original.len(),
        packed.len()
    );
    ExitCode::SUCCESS
}
