//! SQLite storage: one file in the app data dir, WAL mode, schema-as-code migrations.
//!
//! - [`schema`]: the migrations (each a SQL batch) and the version bookkeeping
//!   (`PRAGMA user_version`).
//! - [`db`]: [`Store`], the connection, transactions and the typed accessors for
//!   settings (`kv`) and history.
//! - [`vault_rows`]: the rows behind the vault (envelope, documents, PIN attempts),
//!   read and written by [`crate::vault`] inside store transactions.
//!
//! Every multi-row change runs in one transaction.

pub mod db;
pub mod history;
pub mod schema;
pub mod vault_rows;

pub use db::Store;

/// What can go wrong in storage. Messages never contain stored values.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("could not create the data directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("database schema version {found} is newer than this app knows ({latest})")]
    TooNew { found: u32, latest: u32 },
    #[error("stored value is malformed: {0}")]
    Malformed(&'static str),
}
