//! Tampering with the vault on disk: every mutation must end in a typed error or the
//! exact original plaintext. Never different data, never a panic.
//!
//! A vault is made in a real SQLite file (tempdir) with a KTP-sized document
//! (~100 KB) and a small one, then:
//! - every bit of the key envelope is flipped (one mutation per bit), plus truncation
//!   and extension;
//! - document ciphertexts: every byte of the small record XOR 0x01 and XOR 0xFF; for
//!   the ~100 KB record every byte of its first and last 2 KiB (both masks) and 4,000
//!   seeded random offsets in between (`IKD_TAMPER_FULL=1`: every byte, ~100,000
//!   reads); every bit of each nonce; row-level edits (version, swapped rows, a copy
//!   under another id, truncated or extended fields);
//! - 2,000 seeded random offsets of the SQLite file itself are XORed with a random
//!   non-zero byte.
//!
//! Envelope and file mutations each get a fresh copy of the file and a full
//! open → unlock → read of every document. Document mutations are written into the
//! live file through a second connection and read back through the already unlocked
//! vault (the envelope is untouched there, so unlocking again would test nothing).
//!
//! Run with `--nocapture` to see the counts:
//! `cargo test -p ikd-core --test vault_tamper_sweep -- --nocapture`.
//! (`vault_tamper.rs` beside it holds the vault owner's targeted tamper cases.)
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use ikd_core::clock::{Clock, ManualClock};
use ikd_core::secret::SecretString;
use ikd_core::store::Store;
use ikd_core::vault::{KdfParams, KeyStore, MemoryKeyStore, Pin, UnlockedKey, Vault, VaultError};
use rusqlite::{params, Connection};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const PIN: &str = "135790";
const KTP_ID: &str = "ktp";
const KK_ID: &str = "kk";
const FILE_SAMPLES: usize = 2_000;
/// Large records: every byte this far from either end is flipped.
const EDGE: usize = 2048;
/// Large records: seeded random flips between the edges.
const MIDDLE_SAMPLES: usize = 4_000;
const SEED: u64 = 0x1CD0_2026_0001;

/// splitmix64: a seeded generator, so every run tries the same mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn clock() -> Arc<dyn Clock> {
    let t: DateTime<Utc> = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    Arc::new(ManualClock::new(t))
}

fn vault_on(store: Arc<Store>, ks: &Arc<MemoryKeyStore>) -> Vault {
    let ks: Arc<dyn KeyStore> = ks.clone();
    Vault::new(store, ks, clock()).with_kdf_params(KdfParams::insecure_for_tests())
}

/// A KTP-sized record: JSON with a ~100 KB base64 photo.
fn ktp_plaintext(rng: &mut Rng) -> Vec<u8> {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let photo: String = (0..100_000).map(|_| B64[rng.below(64)] as char).collect();
    format!(r#"{{"nik":"1671014509900001","nama":"SITI AMINAH","foto":"{photo}"}}"#).into_bytes()
}

fn kk_plaintext() -> Vec<u8> {
    br#"{"nomor_kk":"1671010101010001","kepala_keluarga":"AHMAD","anggota":2}"#.to_vec()
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// Every document read back exactly.
    Same,
    /// A typed error (its kind).
    Error(String),
    /// No error, no data: a document row vanished (e.g. its id was changed). The app
    /// treats this as "not cached" and fetches again; it never shows other data.
    Missing,
    /// Data that is not the original plaintext. Must never happen.
    WrongData,
    /// Must never happen.
    Panic,
}

fn kind(e: &VaultError) -> String {
    let s = match e {
        VaultError::Pin(_) => "Pin",
        VaultError::WrongPin(_) => "WrongPin",
        VaultError::LockedOut(_) => "LockedOut",
        VaultError::Wiped => "Wiped",
        VaultError::NotCreated => "NotCreated",
        VaultError::Corrupt => "Corrupt",
        VaultError::WeakKdfParams => "WeakKdfParams",
        VaultError::InvalidId => "InvalidId",
        VaultError::Crypto => "Crypto",
        VaultError::Store(_) => "Store",
        VaultError::KeyStore(_) => "KeyStore",
    };
    s.to_owned()
}

#[derive(Default)]
struct Tally {
    by_outcome: BTreeMap<Outcome, usize>,
    tried: usize,
    failures: Vec<String>,
}

impl Tally {
    fn add(&mut self, what: impl FnOnce() -> String, o: Outcome) {
        self.tried += 1;
        if matches!(o, Outcome::WrongData | Outcome::Panic) && self.failures.len() < 20 {
            self.failures.push(format!("{}: {o:?}", what()));
        }
        *self.by_outcome.entry(o).or_default() += 1;
    }
    fn count(&self, o: &Outcome) -> usize {
        self.by_outcome.get(o).copied().unwrap_or(0)
    }
    fn print(&self, name: &str) {
        println!("[vault_tamper] {name}: {} mutations", self.tried);
        for (o, n) in &self.by_outcome {
            println!("[vault_tamper]   {o:?}: {n}");
        }
    }
}

/// Reads every expected document and every stored id.
fn read_all(
    vault: &Vault,
    key: &UnlockedKey,
    docs: &[(&str, Vec<u8>)],
) -> Result<Outcome, VaultError> {
    let mut missing = false;
    for (id, want) in docs {
        match vault.get_document(key, id)? {
            Some(got) if got.expose() == want => {}
            Some(_) => return Ok(Outcome::WrongData),
            None => missing = true,
        }
    }
    for id in vault.document_ids()? {
        if docs.iter().any(|(d, _)| *d == id) {
            continue;
        }
        // A row under an unexpected id must not decrypt to anything.
        if vault.get_document(key, &id)?.is_some() {
            return Ok(Outcome::WrongData);
        }
    }
    Ok(if missing {
        Outcome::Missing
    } else {
        Outcome::Same
    })
}

fn guarded(f: impl FnOnce() -> Result<Outcome, VaultError>) -> Outcome {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => Outcome::Error(kind(&e)),
        Err(_) => Outcome::Panic,
    }
}

/// Open the file, unlock with the right PIN, read everything.
fn open_unlock_read(path: &Path, ks: &Arc<MemoryKeyStore>, docs: &[(&str, Vec<u8>)]) -> Outcome {
    guarded(|| {
        let store = Arc::new(Store::open(path)?);
        let vault = vault_on(store, ks);
        let key = vault.unlock(&SecretString::new(PIN.to_owned()))?;
        read_all(&vault, &key, docs)
    })
}

fn sidecars(path: &Path) -> [PathBuf; 2] {
    let s = path.as_os_str().to_owned();
    let mut wal = s.clone();
    wal.push("-wal");
    let mut shm = s;
    shm.push("-shm");
    [PathBuf::from(wal), PathBuf::from(shm)]
}

/// Puts `bytes` at `path` as the whole database (no WAL left over).
fn lay_down(path: &Path, bytes: &[u8]) {
    for p in sidecars(path) {
        let _ = std::fs::remove_file(p);
    }
    std::fs::write(path, bytes).unwrap();
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    ks: Arc<MemoryKeyStore>,
    pristine: Vec<u8>,
    docs: Vec<(&'static str, Vec<u8>)>,
}

/// A temp dir on tmpfs when there is one: the store syncs every commit (FULL), and
/// thousands of reopenings should not wait on the disk. Still a real SQLite file.
fn temp_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().unwrap()
}

fn fixture() -> Fixture {
    let dir = temp_dir();
    let path = dir.path().join("ikd.sqlite3");
    let ks = Arc::new(MemoryKeyStore::new());
    let mut rng = Rng(SEED);
    let docs = vec![(KTP_ID, ktp_plaintext(&mut rng)), (KK_ID, kk_plaintext())];
    {
        let store = Arc::new(Store::open(&path).unwrap());
        let vault = vault_on(store, &ks);
        let key = vault.create(&Pin::new(PIN, None).unwrap()).unwrap();
        for (id, pt) in &docs {
            vault.put_document(&key, id, pt).unwrap();
        }
        assert_eq!(read_all(&vault, &key, &docs).unwrap(), Outcome::Same);
    }
    // Closing the last connection checkpoints the WAL into the main file.
    for p in sidecars(&path) {
        assert!(!p.exists(), "{} left behind after close", p.display());
    }
    let pristine = std::fs::read(&path).unwrap();
    // The untouched copy opens, unlocks and reads back.
    lay_down(&path, &pristine);
    assert_eq!(open_unlock_read(&path, &ks, &docs), Outcome::Same);
    Fixture {
        _dir: dir,
        path,
        ks,
        pristine,
        docs,
    }
}

fn read_envelope(path: &Path) -> Vec<u8> {
    let c = Connection::open(path).unwrap();
    c.query_row("SELECT data FROM envelope WHERE id = 1", [], |r| r.get(0))
        .unwrap()
}

fn write_envelope(path: &Path, data: &[u8]) {
    let c = Connection::open(path).unwrap();
    c.pragma_update(None, "synchronous", "OFF").unwrap();
    c.execute("UPDATE envelope SET data = ?1 WHERE id = 1", [data])
        .unwrap();
}

fn assert_clean(name: &str, t: &Tally) {
    t.print(name);
    assert!(
        t.failures.is_empty(),
        "{name}: wrong data or panics: {:#?}",
        t.failures
    );
    assert_eq!(t.count(&Outcome::WrongData), 0);
    assert_eq!(t.count(&Outcome::Panic), 0);
}

#[test]
fn every_envelope_bit_flip_is_refused() {
    let f = fixture();
    let env = read_envelope(&f.path);
    assert!(env.len() > 100, "envelope is {} bytes", env.len());
    let mut t = Tally::default();
    let mut variants: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..env.len() {
        for bit in 0..8 {
            let mut m = env.clone();
            m[i] ^= 1 << bit;
            variants.push((format!("envelope byte {i} bit {bit}"), m));
        }
    }
    for n in [0, 1, env.len() / 2, env.len() - 32, env.len() - 1] {
        variants.push((format!("envelope truncated to {n}"), env[..n].to_vec()));
    }
    let mut longer = env.clone();
    longer.push(0);
    variants.push(("envelope + 1 byte".into(), longer));

    for (what, m) in &variants {
        lay_down(&f.path, &f.pristine);
        write_envelope(&f.path, m);
        let o = open_unlock_read(&f.path, &f.ks, &f.docs);
        t.add(|| what.clone(), o);
    }
    assert_clean("envelope", &t);
    // Every single-bit flip is caught by the envelope MAC.
    assert_eq!(t.count(&Outcome::Error("Corrupt".into())), t.tried);
}

fn read_row(c: &Connection, id: &str) -> Row {
    c.query_row(
        "SELECT version, nonce, ciphertext FROM documents WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .unwrap()
}

type Row = (i64, Vec<u8>, Vec<u8>);

fn write_row(c: &Connection, id: &str, row: &Row) {
    write_parts(c, id, row.0, &row.1, &row.2);
}

fn write_parts(c: &Connection, id: &str, version: i64, nonce: &[u8], ct: &[u8]) {
    c.execute(
        "UPDATE documents SET version = ?1, nonce = ?2, ciphertext = ?3 WHERE id = ?4",
        params![version, nonce, ct, id],
    )
    .unwrap();
}

#[test]
fn every_document_byte_flip_is_refused() {
    let f = fixture();
    let store = Arc::new(Store::open(&f.path).unwrap());
    let vault = vault_on(store, &f.ks);
    let key = vault.unlock(&SecretString::new(PIN.to_owned())).unwrap();
    // A second connection does the tampering; no fsync needed for a test file.
    let raw = Connection::open(&f.path).unwrap();
    raw.pragma_update(None, "synchronous", "OFF").unwrap();

    let mut t = Tally::default();
    let mut rng = Rng(SEED ^ 0xD0C);
    // After a change to one row, that row must read back exactly or fail; the
    // others are untouched, so only the changed row is read (plus the id list).
    let check = |only: Option<&str>, what: &dyn Fn() -> String, t: &mut Tally| {
        let docs: Vec<(&str, Vec<u8>)> = match only {
            Some(id) => f.docs.iter().filter(|(d, _)| *d == id).cloned().collect(),
            None => f.docs.clone(),
        };
        let o = guarded(|| read_all(&vault, &key, &docs));
        t.add(what, o);
    };

    for (id, _) in &f.docs {
        let started = std::time::Instant::now();
        let before = t.tried;
        let only = Some(*id);
        let orig = read_row(&raw, id);
        let (version, nonce, ct) = orig.clone();
        // Ciphertext (format byte, body, tag). Each flip here rewrites and re-reads
        // the record through SQLite, ~100 KB for the KTP one, so by default:
        // - a small record (<= 4 KiB): every byte XOR 0x01 and XOR 0xFF;
        // - a large one: every byte of its first and last 2 KiB (format byte, first
        //   blocks, last blocks and the GCM tag) with both masks, and 4,000 seeded
        //   random offsets in between, each XOR a random non-zero byte.
        // IKD_TAMPER_FULL=1 flips every byte of the large record too (one flip per
        // byte, alternating 0x01/0xFF): ~100,000 more reads, minutes.
        let full = std::env::var_os("IKD_TAMPER_FULL").is_some();
        let mut flips: Vec<(usize, u8)> = Vec::new();
        if ct.len() <= 2 * EDGE {
            for i in 0..ct.len() {
                flips.extend([(i, 0x01), (i, 0xFF)]);
            }
        } else if full {
            for i in 0..ct.len() {
                flips.push((i, if i % 2 == 0 { 0x01 } else { 0xFF }));
            }
        } else {
            for i in (0..EDGE).chain(ct.len() - EDGE..ct.len()) {
                flips.extend([(i, 0x01), (i, 0xFF)]);
            }
            for _ in 0..MIDDLE_SAMPLES {
                let i = EDGE + rng.below(ct.len() - 2 * EDGE);
                flips.push((i, (rng.below(255) + 1) as u8));
            }
        }
        let mut m = ct.clone();
        for &(i, x) in &flips {
            m[i] ^= x;
            write_parts(&raw, id, version, &nonce, &m);
            m[i] ^= x;
            check(
                only,
                &|| format!("{id} ciphertext byte {i} ^ {x:#04x}"),
                &mut t,
            );
        }
        // Nonce: every bit.
        for i in 0..nonce.len() {
            for bit in 0..8 {
                let mut m = nonce.clone();
                m[i] ^= 1 << bit;
                write_parts(&raw, id, version, &m, &ct);
                check(only, &|| format!("{id} nonce byte {i} bit {bit}"), &mut t);
            }
        }
        // Row-level edits.
        let edits: Vec<(&str, Row)> = vec![
            ("version + 1", (version + 1, nonce.clone(), ct.clone())),
            ("version - 1", (version - 1, nonce.clone(), ct.clone())),
            ("version -1", (-1, nonce.clone(), ct.clone())),
            ("version max", (i64::MAX, nonce.clone(), ct.clone())),
            ("nonce empty", (version, Vec::new(), ct.clone())),
            ("nonce short", (version, nonce[..11].to_vec(), ct.clone())),
            (
                "nonce long",
                (version, [&nonce[..], &[0]].concat(), ct.clone()),
            ),
            ("ciphertext empty", (version, nonce.clone(), Vec::new())),
            (
                "ciphertext format only",
                (version, nonce.clone(), ct[..1].to_vec()),
            ),
            (
                "ciphertext no tag",
                (version, nonce.clone(), ct[..ct.len() - 16].to_vec()),
            ),
            (
                "ciphertext - 1 byte",
                (version, nonce.clone(), ct[..ct.len() - 1].to_vec()),
            ),
            (
                "ciphertext + 1 byte",
                (version, nonce.clone(), [&ct[..], &[0]].concat()),
            ),
        ];
        for (what, row) in &edits {
            write_row(&raw, id, row);
            check(only, &|| format!("{id} {what}"), &mut t);
        }
        write_row(&raw, id, &orig);
        check(None, &|| format!("{id} restored"), &mut t);
        println!(
            "[vault_tamper] {id}: ciphertext {} bytes, nonce {} bytes: {} mutations in {:.1?}",
            ct.len(),
            nonce.len(),
            t.tried - before,
            started.elapsed()
        );
    }
    // Swapped rows: each id gets the other's record.
    let a = read_row(&raw, KTP_ID);
    let b = read_row(&raw, KK_ID);
    write_row(&raw, KTP_ID, &b);
    write_row(&raw, KK_ID, &a);
    check(None, &|| "ktp and kk rows swapped".into(), &mut t);
    write_row(&raw, KTP_ID, &a);
    write_row(&raw, KK_ID, &b);
    // A copy of a record under a new id.
    raw.execute(
        "INSERT INTO documents (id, version, nonce, ciphertext, updated_at)
         SELECT 'ktp2', version, nonce, ciphertext, updated_at FROM documents WHERE id = 'ktp'",
        [],
    )
    .unwrap();
    check(None, &|| "ktp copied to ktp2".into(), &mut t);

    assert_clean("documents", &t);
    // The restored rows read back; everything else was refused: `Corrupt`, or a
    // `Store` error for a negative version (not a valid u64).
    assert_eq!(t.count(&Outcome::Same), 2);
    assert_eq!(t.count(&Outcome::Error("Store".into())), 2);
    assert_eq!(t.count(&Outcome::Error("Corrupt".into())), t.tried - 4);
}

#[test]
fn random_sqlite_file_flips_never_give_wrong_data() {
    let f = fixture();
    let mut rng = Rng(SEED ^ 0xF11E);
    let mut t = Tally::default();
    for _ in 0..FILE_SAMPLES {
        let off = rng.below(f.pristine.len());
        let x = (rng.below(255) + 1) as u8;
        let mut m = f.pristine.clone();
        m[off] ^= x;
        lay_down(&f.path, &m);
        let o = open_unlock_read(&f.path, &f.ks, &f.docs);
        t.add(|| format!("file offset {off} ^ {x:#04x}"), o);
    }
    println!(
        "[vault_tamper] file is {} bytes ({} pages)",
        f.pristine.len(),
        f.pristine.len() / 4096
    );
    assert_clean("sqlite file", &t);
    assert_eq!(t.tried, FILE_SAMPLES);
}
