//! `ikd`: developer CLI for the identity rules, the selfie pipeline, and the wallet
//! itself (`ikd wallet`, see `wallet.rs`).
//!
//! Prints JSON on stdout. On bad input it prints `{"error": {"code", "message",
//! "detail"}}` (the [`UiError`] the app would show) on stdout and exits with status 1.
//!
//! ```text
//! ikd nik 1671014509900001        # region names, birth date, sex, serial, warnings
//! ikd kk 1671012304190007
//! ikd phone "0812-3456-7890"      # {"phone": "+6281234567890"}
//! ikd email " Siti@Example.COM"   # {"email": "Siti@example.com"}
//! ikd selfie in.jpg out.jpg       # 600×800 metadata-free JPEG + measurements
//! ikd wallet --data-dir D state   # the wallet, headless (see wallet.rs)
//! ```

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use ikd_core::error::{ErrorCode, UiError};
use ikd_core::identity::{email, kk, nik, phone};
use ikd_core::view::SelfieVerdict;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

mod wallet;

#[derive(Parser)]
#[command(
    name = "ikd",
    version,
    about = "IKD identity rules and the wallet on the command line (JSON out)"
)]
struct Cli {
    /// Date used as "today" for the NIK century rule (YYYY-MM-DD; default: local date).
    #[arg(long, global = true, value_parser = parse_date)]
    today: Option<NaiveDate>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a NIK and say what it encodes.
    Nik { nik: String },
    /// Check a KK (family card) number.
    Kk { number: String },
    /// Check an Indonesian mobile number and normalise it to +628….
    Phone { number: String },
    /// Check an email address and normalise it.
    Email { address: String },
    /// Process a selfie (JPEG/PNG) into the 600×800 JPEG that is sent.
    Selfie { input: PathBuf, output: PathBuf },
    /// The wallet, headless: enroll, activate, set the PIN, read the documents.
    Wallet(wallet::WalletArgs),
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| format!("expected YYYY-MM-DD: {e}"))
}

/// Pretty JSON, fields in declaration order.
fn to_json<T: Serialize>(v: &T) -> Result<String, UiError> {
    serde_json::to_string_pretty(v).map_err(|e| UiError::new(ErrorCode::Internal, e.to_string()))
}

#[derive(Serialize)]
struct PhoneOut {
    phone: String,
}

#[derive(Serialize)]
struct EmailOut {
    email: String,
}

#[derive(Serialize)]
struct SelfieOut {
    output: String,
    width: u32,
    height: u32,
    bytes: u32,
    brightness: f32,
    sharpness: f32,
    verdicts: Vec<SelfieVerdict>,
    acceptable: bool,
}

#[derive(Serialize)]
struct ErrorOut<'a> {
    error: &'a UiError,
}

fn run(cli: Cli) -> Result<String, UiError> {
    // Only the NIK rule needs today's date (the local one reads the time zone file).
    let today = || {
        cli.today
            .unwrap_or_else(|| chrono::Local::now().date_naive())
    };
    match cli.command {
        Command::Wallet(args) => wallet::run(args),
        Command::Nik { nik } => to_json(&nik::parse(&nik, today())?),
        Command::Kk { number } => to_json(&kk::parse(&number)?),
        Command::Phone { number } => to_json(&PhoneOut {
            phone: phone::normalize(&number)?,
        }),
        Command::Email { address } => to_json(&EmailOut {
            email: email::normalize(&address)?,
        }),
        Command::Selfie { input, output } => {
            // The face check's thread reads its model on the other core while this one
            // reads the file.
            ikd_core::selfie::warm_up();
            let bytes = std::fs::read(&input).map_err(|e| {
                UiError::new(
                    ErrorCode::Storage,
                    format!("cannot read the input file: {e}"),
                )
            })?;
            // Handed over: the pipeline decodes in this buffer instead of a copy.
            let processed = ikd_core::selfie::process_vec(bytes)?;
            std::fs::write(&output, &processed.jpeg).map_err(|e| {
                UiError::new(
                    ErrorCode::Storage,
                    format!("cannot write the output file: {e}"),
                )
            })?;
            to_json(&SelfieOut {
                output: output.display().to_string(),
                width: processed.width,
                height: processed.height,
                bytes: u32::try_from(processed.jpeg.len()).unwrap_or(u32::MAX),
                brightness: processed.brightness,
                sharpness: processed.sharpness,
                acceptable: processed.verdicts.is_empty(),
                verdicts: processed
                    .verdicts
                    .into_iter()
                    .map(SelfieVerdict::from)
                    .collect(),
            })
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            match to_json(&ErrorOut { error: &e }) {
                Ok(out) => println!("{out}"),
                // Serializing a UiError cannot fail; keep a plain fallback anyway.
                Err(_) => println!("{{\"error\":{{\"code\":\"internal\",\"message\":\"\"}}}}"),
            }
            ExitCode::FAILURE
        }
    }
}
