//! `ikd wallet`: the same [`Wallet`] facade the app uses, headless, for developers,
//! scripts and tests. One command per call; the wallet's state lives in the data dir
//! (SQLite and the key-store file), so a journey is a sequence of `ikd wallet` runs.
//!
//! ```text
//! ikd wallet [--data-dir DIR] [--backend URL] [--keystore file] COMMAND
//!   state                                   AppState
//!   enroll --nik N --email E --phone P --selfie FILE --consent
//!                                           EnrollmentView
//!   scan (--qr TEXT | --qr-image FILE)      EnrollmentView
//!   status | resend                         EnrollmentView
//!   activate --code CODE                    AppState
//!   set-pin --pin-stdin                     AppState   (stdin: the PIN twice, one a line)
//!   ktp | kk | history --pin-stdin          KtpView | KkView | [HistoryEntry]
//!   refresh --pin-stdin                     {"refreshed": true}
//!   release --pin-stdin                     AppState
//!   present --request URL (--share-all | --share nama,foto | --decline) --pin-stdin
//!                                           Presented: to whom, what was sent, the answer
//! ```
//!
//! Defaults: `IKD_DATA_DIR`, `IKD_BACKEND_URL` (else the demo server on
//! 127.0.0.1:8787). A PIN is never an argument: `--pin-stdin` reads one line (`set-pin`
//! two). The unlocked document key lives only as long as one run: commands behind the
//! PIN unlock first. `release` needs the PIN too, since the device's tokens are in the
//! vault. `present` (OpenID4VP 1.0) answers the verifier's `openid4vp://` link: the
//! wallet is a release build here, so the verifier must chain to a relying-party trust
//! anchor in `rp-trust-anchors.pem` in the data dir; `--share` names the fields (claim
//! paths or their first element) and must include every required one.

use clap::{Args, Subcommand, ValueEnum};
use ikd_core::clock::SystemClock;
use ikd_core::error::{ErrorCode, UiError};
use ikd_core::secret::SecretString;
use ikd_core::vault::{FileKeyStore, KeyStore};
use ikd_core::view::RegisterForm;
use ikd_core::wallet::present::ShareChoice;
use ikd_core::wallet::{Wallet, WalletConfig};
use serde::Serialize;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The demo server's address (`ikd-server demo`).
const DEFAULT_BACKEND_URL: &str = "http://127.0.0.1:8787";

#[derive(Args)]
pub struct WalletArgs {
    /// The wallet's data directory [default: $IKD_DATA_DIR].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The backend's base URL [default: $IKD_BACKEND_URL, else http://127.0.0.1:8787].
    #[arg(long)]
    backend: Option<String>,
    /// Where the device secret and device key live. Headless there is one choice, the
    /// 0600 file in the data dir (the store a desktop without a key ring uses too).
    #[arg(long, value_enum, default_value_t = KeystoreKind::File)]
    keystore: KeystoreKind,
    #[command(subcommand)]
    command: WalletCommand,
}

#[derive(Clone, Copy, ValueEnum)]
enum KeystoreKind {
    File,
}

#[derive(Subcommand)]
enum WalletCommand {
    /// Where the wallet is (AppState).
    State,
    /// Process the selfie and submit the enrollment.
    Enroll {
        #[arg(long)]
        nik: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        phone: String,
        /// The selfie (JPEG or PNG).
        #[arg(long)]
        selfie: PathBuf,
        /// The resident agrees to the processing of the data.
        #[arg(long)]
        consent: bool,
    },
    /// Submit the desk QR: its text, or a photo of it.
    Scan {
        #[arg(
            long,
            conflicts_with = "qr_image",
            required_unless_present = "qr_image"
        )]
        qr: Option<String>,
        #[arg(long)]
        qr_image: Option<PathBuf>,
    },
    /// Ask the backend for the enrollment's status.
    Status,
    /// Ask for the activation code again.
    Resend,
    /// Redeem the mailed activation code and fetch KTP and KK.
    Activate {
        #[arg(long)]
        code: String,
    },
    /// Create the PIN (stdin: the PIN, then the PIN again).
    SetPin(PinStdin),
    /// The KTP (stdin: the PIN).
    Ktp(PinStdin),
    /// The KK (stdin: the PIN).
    Kk(PinStdin),
    /// The history (stdin: the PIN).
    History(PinStdin),
    /// Fetch fresh KTP and KK with the refresh token (stdin: the PIN).
    Refresh(PinStdin),
    /// Lepas Perangkat: tell the backend, then wipe this wallet (stdin: the PIN).
    Release(PinStdin),
    /// Answer a verifier's OpenID4VP request (stdin: the PIN; the documents are
    /// behind it even to see what would be shared).
    Present {
        /// The `openid4vp://` link (the QR's text).
        #[arg(long)]
        request: String,
        /// Share every field asked for.
        #[arg(long, conflicts_with_all = ["share", "decline"])]
        share_all: bool,
        /// Share only these fields (comma-separated), e.g. `nama,foto`.
        #[arg(long, value_delimiter = ',', conflicts_with = "decline")]
        share: Option<Vec<String>>,
        /// Refuse: the verifier gets `access_denied`.
        #[arg(long)]
        decline: bool,
        #[command(flatten)]
        pin: PinStdin,
    },
}

/// What `present` prints: to whom, what was sent, and the verifier's answer.
#[derive(Serialize)]
struct Presented {
    to: ikd_core::wallet::present::VerifierView,
    purpose: Option<String>,
    response_mode: String,
    /// The claim paths sent (empty when declined).
    sent: Vec<String>,
    declined: bool,
    answer: VerifierAnswer,
}

#[derive(Serialize)]
struct VerifierAnswer {
    /// The HTTP status of the verifier's answer to the `direct_post`.
    status: u16,
    redirect_uri: Option<String>,
    error: Option<String>,
}

#[derive(Args)]
struct PinStdin {
    /// Read the PIN from stdin (required: a PIN is never an argument).
    #[arg(long, required = true)]
    pin_stdin: bool,
}

fn storage(msg: String) -> UiError {
    UiError::new(ErrorCode::Storage, msg)
}

fn pretty<T: Serialize>(v: &T) -> Result<String, UiError> {
    serde_json::to_string_pretty(v).map_err(|e| UiError::new(ErrorCode::Internal, e.to_string()))
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// One line of stdin, without its line ending, as a secret.
fn read_pin(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
) -> Result<SecretString, UiError> {
    match lines.next() {
        Some(Ok(line)) => Ok(SecretString::new(
            line.trim_end_matches(['\r', '\n']).to_owned(),
        )),
        Some(Err(e)) => Err(storage(format!("cannot read the PIN from stdin: {e}"))),
        None => Err(UiError::new(
            ErrorCode::PinPolicy,
            "no PIN on stdin (one line expected)",
        )),
    }
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, UiError> {
    std::fs::read(path).map_err(|e| storage(format!("cannot read the {what} file: {e}")))
}

fn open_wallet(args: &WalletArgs) -> Result<Wallet, UiError> {
    let data_dir = args
        .data_dir
        .clone()
        .or_else(|| env_nonempty("IKD_DATA_DIR").map(PathBuf::from))
        .ok_or_else(|| {
            UiError::new(
                ErrorCode::Storage,
                "no wallet data dir: pass --data-dir or set IKD_DATA_DIR",
            )
        })?;
    let backend_url = args
        .backend
        .clone()
        .or_else(|| env_nonempty("IKD_BACKEND_URL"))
        .unwrap_or_else(|| DEFAULT_BACKEND_URL.to_owned());
    let keystore: Arc<dyn KeyStore> = match args.keystore {
        KeystoreKind::File => {
            let ks = FileKeyStore::in_dir(&data_dir);
            eprintln!(
                "ikd wallet: key store = file {} (mode 0600; no OS key ring is used headless)",
                ks.path().display()
            );
            Arc::new(ks)
        }
    };
    Wallet::open(WalletConfig {
        data_dir,
        backend_url,
        // The URL given here always wins over one kept in the settings.
        dev_build: false,
        clock: Arc::new(SystemClock),
        keystore,
        kdf: None,
        issuer_url: None,
    })
}

#[derive(Serialize)]
struct Refreshed {
    refreshed: bool,
}

impl WalletCommand {
    /// How many PIN lines the command reads from stdin.
    fn pin_lines(&self) -> usize {
        match self {
            WalletCommand::SetPin(_) => 2,
            WalletCommand::Ktp(_)
            | WalletCommand::Kk(_)
            | WalletCommand::History(_)
            | WalletCommand::Refresh(_)
            | WalletCommand::Release(_)
            | WalletCommand::Present { .. } => 1,
            _ => 0,
        }
    }
}

async fn run_command(
    w: &Wallet,
    command: WalletCommand,
    mut pins: Vec<SecretString>,
) -> Result<String, UiError> {
    let mut pin = || {
        if pins.is_empty() {
            Err(UiError::new(ErrorCode::PinPolicy, "no PIN on stdin"))
        } else {
            Ok(pins.remove(0))
        }
    };
    match command {
        WalletCommand::State => pretty(&w.app_state()?),
        WalletCommand::Enroll {
            nik,
            email,
            phone,
            selfie,
            consent,
        } => {
            let bytes = read_file(&selfie, "selfie")?;
            w.process_selfie(&bytes)?;
            let form = RegisterForm {
                nik,
                email,
                phone,
                consent,
            };
            pretty(&w.submit_enrollment(form).await?)
        }
        WalletCommand::Scan { qr, qr_image } => {
            let text = match (qr, qr_image) {
                (Some(t), _) => t,
                (None, Some(path)) => w.decode_qr_image(&read_file(&path, "QR image")?)?,
                (None, None) => return Err(UiError::new(ErrorCode::QrInvalid, "no QR given")),
            };
            pretty(&w.scan_desk_qr(&text).await?)
        }
        WalletCommand::Status => pretty(&w.refresh_status().await?),
        WalletCommand::Resend => pretty(&w.resend_code().await?),
        WalletCommand::Activate { code } => pretty(&w.activate(SecretString::new(code)).await?),
        WalletCommand::SetPin(_) => {
            let (first, again) = (pin()?, pin()?);
            pretty(&w.set_pin(first, again)?)
        }
        WalletCommand::Ktp(_) => {
            w.unlock(pin()?)?;
            pretty(&w.ktp()?)
        }
        WalletCommand::Kk(_) => {
            w.unlock(pin()?)?;
            pretty(&w.kk()?)
        }
        WalletCommand::History(_) => {
            w.unlock(pin()?)?;
            pretty(&w.history()?)
        }
        WalletCommand::Refresh(_) => {
            w.unlock(pin()?)?;
            w.refresh_documents().await?;
            pretty(&Refreshed { refreshed: true })
        }
        WalletCommand::Release(_) => {
            w.unlock(pin()?)?;
            pretty(&w.release_device().await?)
        }
        WalletCommand::Present {
            request,
            share_all,
            share,
            decline,
            pin: _,
        } => {
            let choice = match (share_all, share, decline) {
                (true, None, false) => Some(ShareChoice::All),
                (false, Some(names), false) => Some(ShareChoice::Only(names)),
                (false, None, true) => None,
                _ => {
                    return Err(UiError::new(
                        ErrorCode::InvalidState,
                        "choose one of --share-all, --share FIELDS or --decline",
                    ))
                }
            };
            let pin = pin()?;
            w.unlock(SecretString::new(pin.expose().clone()))?;
            let pending = w.presentation_request(&request).await?;
            let out = match &choice {
                Some(c) => w.present(&pending, pin, c).await?,
                None => w.decline(&pending).await?,
            };
            let view = pending.view();
            pretty(&Presented {
                to: out.verifier,
                purpose: view.purpose.clone(),
                response_mode: view.response_mode.clone(),
                sent: out.shared,
                declined: out.declined,
                answer: VerifierAnswer {
                    status: out.status,
                    redirect_uri: out.redirect_uri,
                    error: out.verifier_error,
                },
            })
        }
    }
}

/// Runs one `ikd wallet` command; the JSON to print, or the error.
pub fn run(args: WalletArgs) -> Result<String, UiError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| UiError::new(ErrorCode::Internal, format!("async runtime: {e}")))?;
    let pins = {
        let stdin = std::io::stdin();
        let mut lines = stdin.lock().lines();
        (0..args.command.pin_lines())
            .map(|_| read_pin(&mut lines))
            .collect::<Result<Vec<_>, _>>()?
    };
    let wallet = open_wallet(&args)?;
    rt.block_on(run_command(&wallet, args.command, pins))
}
