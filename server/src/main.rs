//! ikd-server binary: demo, serve, seed, officer add, openapi.

use clap::{Parser, Subcommand};
use ikd_server::config::{Config, FileConfig, Role, SmtpConfig, TlsMode};
use ikd_server::demo;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "ikd-server", version, about = "IKD reference backend")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Demo server: seeds residents if empty, demo officer petugas/petugas123, dev outbox.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8787")]
        addr: SocketAddr,
        #[arg(long, default_value = "ikd-demo-data")]
        data_dir: PathBuf,
        /// Also send mail to this plain SMTP server (HOST:PORT).
        #[arg(long)]
        smtp: Option<String>,
        #[arg(long, default_value_t = 200)]
        residents: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// PostgreSQL store (`postgres://user@host:port/db`); default: SQLite in the data dir.
        #[arg(long, env = "IKD_DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Serve with a TOML config file.
    Serve {
        #[arg(long)]
        config: PathBuf,
        /// PostgreSQL store; overrides the file's `database_url`.
        #[arg(long, env = "IKD_DATABASE_URL")]
        database_url: Option<String>,
        /// What this node runs: `all` (the API, the mail queue, the face checks),
        /// `api` (no face checks) or `face` (only the face checks, plus /healthz and
        /// /readyz); overrides the file's `role`.
        #[arg(long)]
        role: Option<Role>,
    },
    /// Seed synthetic residents into the data dir.
    Seed {
        #[arg(long, default_value_t = 200)]
        residents: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value = "ikd-demo-data")]
        data_dir: PathBuf,
    },
    /// Officer accounts.
    Officer {
        #[command(subcommand)]
        cmd: OfficerCmd,
    },
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Subcommand)]
enum OfficerCmd {
    Add {
        #[arg(long)]
        username: String,
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, default_value = demo::DEMO_DESK_ID)]
        desk_id: String,
        #[arg(long, default_value = demo::DEMO_DESK_NAME)]
        desk_name: String,
        #[arg(long, default_value = "ikd-demo-data")]
        data_dir: PathBuf,
    },
}

/// Logs go to stderr: human-readable by default, one JSON object a line with
/// `IKD_LOG_FORMAT=json` (for a log collector). `RUST_LOG` sets the filter (default
/// `info`). Neither format carries a NIK (masked), a code, a token or a PIN.
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = std::env::var("IKD_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

async fn serve_until_ctrl_c(config: Config) -> Result<(), String> {
    let running = ikd_server::start(config).await.map_err(|e| e.to_string())?;
    println!("IKD server: {}", running.base_url);
    println!("  Konsol petugas : {}/officer", running.base_url);
    println!(
        "  Metadata issuer: {}/.well-known/openid-credential-issuer",
        running.base_url
    );
    if running.state.dev_mode {
        println!("  Dev outbox     : {}/dev/outbox", running.base_url);
    }
    let _ = tokio::signal::ctrl_c().await;
    running.shutdown().await;
    Ok(())
}

fn run(cli: Cli) -> Result<(), String> {
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    match cli.cmd {
        Cmd::Demo {
            addr,
            data_dir,
            smtp,
            residents,
            seed,
            database_url,
        } => {
            let mut c = Config::demo(data_dir);
            c.addr = addr;
            c.database_url = database_url;
            c.seed_residents = residents;
            c.seed = seed;
            if let Some(s) = smtp {
                let (host, port) = s.rsplit_once(':').ok_or("--smtp is HOST:PORT")?;
                c.smtp = Some(SmtpConfig {
                    host: host.to_owned(),
                    port: port.parse().map_err(|_| "bad SMTP port")?,
                    tls: TlsMode::None,
                    username: None,
                    password: None,
                    from: "IKD Disdukcapil <noreply@ikd.localhost>".into(),
                });
            }
            println!(
                "Demo: petugas {} / {}",
                demo::DEMO_OFFICER_USERNAME,
                demo::DEMO_OFFICER_PASSWORD
            );
            for d in demo::DEMO_RESIDENTS {
                println!("  {} {:<22} {}", d.nik, d.name, d.note);
            }
            rt.block_on(serve_until_ctrl_c(c))
        }
        Cmd::Serve {
            config,
            database_url,
            role,
        } => {
            let text = std::fs::read_to_string(&config).map_err(|e| e.to_string())?;
            let mut c = FileConfig::from_toml(&text)?.into_config();
            if database_url.is_some() {
                c.database_url = database_url;
            }
            if let Some(r) = role {
                c.role = r;
            }
            rt.block_on(serve_until_ctrl_c(c))
        }
        Cmd::Seed {
            residents,
            seed,
            data_dir,
        } => {
            let c = Config::demo(data_dir);
            let state =
                ikd_server::open_state(&c, "http://localhost".into()).map_err(|e| e.to_string())?;
            let people = ikd_server::siak::seed::generate(residents, seed);
            state
                .store
                .insert_residents(&people)
                .map_err(|e| e.to_string())?;
            state
                .store
                .insert_residents(&demo::demo_residents())
                .map_err(|e| e.to_string())?;
            println!("seeded {} residents (seed {seed})", people.len());
            Ok(())
        }
        Cmd::Officer {
            cmd:
                OfficerCmd::Add {
                    username,
                    password,
                    password_stdin,
                    desk_id,
                    desk_name,
                    data_dir,
                },
        } => {
            let password = match (password, password_stdin) {
                (Some(p), false) => p,
                (None, true) => {
                    let mut s = String::new();
                    std::io::stdin()
                        .read_line(&mut s)
                        .map_err(|e| e.to_string())?;
                    s.trim_end_matches(['\r', '\n']).to_owned()
                }
                _ => return Err("give --password or --password-stdin".into()),
            };
            if password.len() < 8 {
                return Err("password: at least 8 characters".into());
            }
            let c = Config::demo(data_dir);
            let state =
                ikd_server::open_state(&c, "http://localhost".into()).map_err(|e| e.to_string())?;
            ikd_server::auth::add_officer(
                state.store.as_ref(),
                &username,
                &password,
                &desk_id,
                &desk_name,
            )
            .map_err(|e| e.to_string())?;
            println!("officer {username} added at {desk_name}");
            Ok(())
        }
        Cmd::Openapi => {
            print!("{}", ikd_server::openapi::document_pretty());
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    init_logs();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ikd-server: {e}");
            ExitCode::FAILURE
        }
    }
}
