//! Storage behind the [`Store`] trait; [`SqliteStore`] is the one implementation
//! (rusqlite, WAL, migrations as code). Every multi-step write is one transaction.

use chrono::{DateTime, Utc};
use ikd_proto::wire::{EcJwk, EnrollmentStatusWire, OutboxMail};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One person in the SIAK simulator. Values as printed on the documents (CAPITALS).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resident {
    pub nik: String,
    pub kk: String,
    pub nama: String,
    pub tempat_lahir: String,
    /// YYYY-MM-DD
    pub tanggal_lahir: String,
    pub jenis_kelamin: String,
    pub golongan_darah: String,
    pub alamat: String,
    pub rt_rw: String,
    pub kel_desa: String,
    pub kecamatan: String,
    pub kabupaten_kota: String,
    pub provinsi: String,
    pub kode_pos: String,
    pub agama: String,
    pub status_perkawinan: String,
    pub tanggal_perkawinan: Option<String>,
    pub pekerjaan: String,
    pub pendidikan: String,
    pub kewarganegaraan: String,
    /// Status Hubungan Dalam Keluarga
    pub hubungan: String,
    pub ayah: String,
    pub ibu: String,
    /// KTP-el biometric recording done.
    pub recorded: bool,
    pub deceased: bool,
    /// YYYY-MM-DD the KK was issued.
    pub kk_tanggal_terbit: String,
    /// YYYY-MM-DD the KTP-el was issued (when recorded).
    pub ktp_tanggal_terbit: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Enrollment {
    pub id: String,
    /// SHA-256 hex of the enrollment token.
    pub token_hash: String,
    pub nik: String,
    pub email: String,
    pub phone: String,
    #[serde(skip)]
    pub selfie: Vec<u8>,
    pub device_jwk: EcJwk,
    pub device_thumb: String,
    pub status: EnrollmentStatusWire,
    pub created_at: DateTime<Utc>,
    pub desk_id: Option<String>,
    pub desk_name: Option<String>,
    pub scanned_at: Option<DateTime<Utc>>,
    pub reject_reason: Option<String>,
    pub decided_by: Option<String>,
    /// HMAC of the activation code (tx_code).
    pub code_hash: Option<String>,
    pub code_expires_at: Option<DateTime<Utc>>,
    pub code_attempts_left: u32,
    pub code_void: bool,
    /// Random salt the pre-authorised code is derived from (HMAC with the server key).
    pub offer_salt: Option<String>,
    /// SHA-256 of the pre-authorised code, for lookup.
    pub offer_hash: Option<String>,
    pub resend_last_at: Option<DateTime<Utc>>,
    pub resend_day: Option<String>,
    pub resend_count: u32,
    /// A re-authentication ("Lupa PIN") is pending: the offer and code belong to it.
    #[serde(default)]
    pub reauth_pending: bool,
    #[serde(default)]
    pub reauth_last_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub reauth_day: Option<String>,
    #[serde(default)]
    pub reauth_count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    Active,
    /// Released by the resident, or replaced by a newer device.
    Revoked,
    /// Blocked by an officer.
    Blocked,
}

impl DeviceStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Blocked => "blocked",
        }
    }
    fn parse(s: &str) -> StoreResult<Self> {
        match s {
            "active" => Ok(Self::Active),
            "revoked" => Ok(Self::Revoked),
            "blocked" => Ok(Self::Blocked),
            other => Err(StoreError::Corrupt(format!("device status {other}"))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Device {
    pub thumb: String,
    pub nik: String,
    pub enrollment_id: String,
    pub jwk: EcJwk,
    pub status: DeviceStatus,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

#[derive(Debug, Clone)]
pub struct TokenRow {
    /// SHA-256 hex of the token.
    pub hash: String,
    pub kind: TokenKind,
    pub device_thumb: String,
    pub nik: String,
    pub enrollment_id: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Officer {
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub desk_id: String,
    pub desk_name: String,
}

pub trait Store: Send + Sync {
    fn resident_count(&self) -> StoreResult<usize>;
    /// Inserts residents (existing NIKs are kept as they are), in one transaction.
    fn insert_residents(&self, residents: &[Resident]) -> StoreResult<()>;
    fn resident(&self, nik: &str) -> StoreResult<Option<Resident>>;
    /// The members of a KK, head first.
    fn family(&self, kk: &str) -> StoreResult<Vec<Resident>>;

    fn insert_enrollment(&self, e: &Enrollment) -> StoreResult<()>;
    fn enrollment(&self, id: &str) -> StoreResult<Option<Enrollment>>;
    fn enrollment_by_offer(&self, offer_hash: &str) -> StoreResult<Option<Enrollment>>;
    fn update_enrollment(&self, e: &Enrollment) -> StoreResult<()>;
    /// Records that `e` used the desk QR `qr_nonce` and saves `e`, in one transaction.
    /// False (and nothing written) when another enrollment already used that QR.
    fn scan(&self, e: &Enrollment, qr_nonce: &str) -> StoreResult<bool>;
    /// Enrollments waiting at a desk (scanned, not decided), oldest first.
    fn queue(&self, desk_id: &str) -> StoreResult<Vec<Enrollment>>;
    /// Activation, one transaction: saves `e`, revokes the resident's other devices,
    /// adds `device`, stores `tokens`.
    fn activate(&self, e: &Enrollment, device: &Device, tokens: &[TokenRow]) -> StoreResult<()>;

    /// Re-authentication requested, one transaction: saves `e` (new code and offer) and
    /// deletes every token of the device `thumb`; returns how many tokens were revoked.
    fn begin_reauth(&self, e: &Enrollment, thumb: &str) -> StoreResult<usize>;
    /// Re-authentication redeemed, one transaction: if the device `thumb` is still
    /// active, saves `e` and stores `tokens` (true); otherwise writes nothing (false).
    fn finish_reauth(&self, e: &Enrollment, thumb: &str, tokens: &[TokenRow]) -> StoreResult<bool>;

    fn device(&self, thumb: &str) -> StoreResult<Option<Device>>;
    fn set_device_status(&self, thumb: &str, status: DeviceStatus) -> StoreResult<()>;
    /// Sets every active device of a resident to `status`; returns how many.
    fn set_devices_of(&self, nik: &str, status: DeviceStatus) -> StoreResult<usize>;
    fn insert_token(&self, t: &TokenRow) -> StoreResult<()>;
    fn token(&self, hash: &str) -> StoreResult<Option<TokenRow>>;

    fn insert_nonce(&self, nonce: &str, expires_at: DateTime<Utc>) -> StoreResult<()>;
    /// Consumes a nonce; true if it existed and had not expired.
    fn take_nonce(&self, nonce: &str, now: DateTime<Utc>) -> StoreResult<bool>;

    fn put_officer(&self, o: &Officer) -> StoreResult<()>;
    fn officer(&self, username: &str) -> StoreResult<Option<Officer>>;
    fn insert_session(
        &self,
        hash: &str,
        username: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    fn session(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<String>>;

    fn push_outbox(&self, mail: &OutboxMail) -> StoreResult<()>;
    fn outbox(&self) -> StoreResult<Vec<OutboxMail>>;
}

/// Schema migrations, applied in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE residents (
    nik TEXT PRIMARY KEY,
    kk TEXT NOT NULL,
    ord INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX residents_kk ON residents(kk);
CREATE TABLE enrollments (
    id TEXT PRIMARY KEY,
    nik TEXT NOT NULL,
    status TEXT NOT NULL,
    desk_id TEXT,
    offer_hash TEXT,
    scanned_at TEXT,
    selfie BLOB NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX enrollments_desk ON enrollments(desk_id, status);
CREATE UNIQUE INDEX enrollments_offer ON enrollments(offer_hash);
CREATE TABLE qr_uses (
    nonce TEXT PRIMARY KEY,
    enrollment_id TEXT NOT NULL
);
CREATE TABLE devices (
    thumb TEXT PRIMARY KEY,
    nik TEXT NOT NULL,
    enrollment_id TEXT NOT NULL,
    jwk TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX devices_nik ON devices(nik);
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    device_thumb TEXT NOT NULL,
    nik TEXT NOT NULL,
    enrollment_id TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE nonces (
    nonce TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
);
CREATE TABLE officers (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    desk_id TEXT NOT NULL,
    desk_name TEXT NOT NULL
);
CREATE TABLE sessions (
    hash TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at TEXT NOT NULL
);
"#,
    // 2: device tokens by device (re-authentication revokes them).
    r#"
CREATE INDEX tokens_device ON tokens(device_thumb);
"#,
];

pub struct SqliteStore {
    conn: Mutex<Connection>,
}

fn status_str(s: EnrollmentStatusWire) -> &'static str {
    match s {
        EnrollmentStatusWire::Submitted => "submitted",
        EnrollmentStatusWire::Scanned => "scanned",
        EnrollmentStatusWire::Approved => "approved",
        EnrollmentStatusWire::Activated => "activated",
        EnrollmentStatusWire::Rejected => "rejected",
        EnrollmentStatusWire::Expired => "expired",
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

fn parse_ts(s: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StoreError::Corrupt("timestamp".into()))
}

fn to_json<T: Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: for<'de> Deserialize<'de>>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl SqliteStore {
    pub fn open(path: &Path) -> StoreResult<Self> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    pub fn open_in_memory() -> StoreResult<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> StoreResult<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let tx = conn.transaction()?;
        for (i, m) in MIGRATIONS.iter().enumerate() {
            let v = i as i64 + 1;
            if v > version {
                tx.execute_batch(m)?;
                tx.pragma_update(None, "user_version", v)?;
            }
        }
        tx.commit()?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn write_enrollment(conn: &Connection, e: &Enrollment, insert: bool) -> StoreResult<()> {
        let data = to_json(e)?;
        let scanned = e.scanned_at.map(ts);
        if insert {
            conn.execute(
                "INSERT INTO enrollments (id, nik, status, desk_id, offer_hash, scanned_at, selfie, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![e.id, e.nik, status_str(e.status), e.desk_id, e.offer_hash, scanned, e.selfie, data],
            )?;
        } else {
            conn.execute(
                "UPDATE enrollments SET status = ?2, desk_id = ?3, offer_hash = ?4, scanned_at = ?5, data = ?6
                 WHERE id = ?1",
                params![e.id, status_str(e.status), e.desk_id, e.offer_hash, scanned, data],
            )?;
        }
        Ok(())
    }

    fn read_enrollments(
        conn: &Connection,
        sql: &str,
        p: &[&dyn rusqlite::ToSql],
    ) -> StoreResult<Vec<Enrollment>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(p, |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (data, selfie) = row?;
            let mut e: Enrollment = from_json(&data)?;
            e.selfie = selfie;
            out.push(e);
        }
        Ok(out)
    }

    fn read_device(
        r: &rusqlite::Row<'_>,
    ) -> rusqlite::Result<(String, String, String, String, String, String)> {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    }
}

impl Store for SqliteStore {
    fn resident_count(&self) -> StoreResult<usize> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM residents", [], |r| r.get(0))?;
        Ok(n as usize)
    }

    fn insert_residents(&self, residents: &[Resident]) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO residents (nik, kk, ord, data) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for r in residents {
                let ord = hubungan_order(&r.hubungan);
                stmt.execute(params![r.nik, r.kk, ord, to_json(r)?])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn resident(&self, nik: &str) -> StoreResult<Option<Resident>> {
        let data: Option<String> = self
            .conn()
            .query_row("SELECT data FROM residents WHERE nik = ?1", [nik], |r| {
                r.get(0)
            })
            .optional()?;
        data.map(|d| from_json(&d)).transpose()
    }

    fn family(&self, kk: &str) -> StoreResult<Vec<Resident>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT data FROM residents WHERE kk = ?1 ORDER BY ord, nik")?;
        let rows = stmt.query_map([kk], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for d in rows {
            out.push(from_json(&d?)?);
        }
        Ok(out)
    }

    fn insert_enrollment(&self, e: &Enrollment) -> StoreResult<()> {
        Self::write_enrollment(&self.conn(), e, true)
    }

    fn enrollment(&self, id: &str) -> StoreResult<Option<Enrollment>> {
        let conn = self.conn();
        Ok(Self::read_enrollments(
            &conn,
            "SELECT data, selfie FROM enrollments WHERE id = ?1",
            &[&id],
        )?
        .pop())
    }

    fn enrollment_by_offer(&self, offer_hash: &str) -> StoreResult<Option<Enrollment>> {
        let conn = self.conn();
        Ok(Self::read_enrollments(
            &conn,
            "SELECT data, selfie FROM enrollments WHERE offer_hash = ?1",
            &[&offer_hash],
        )?
        .pop())
    }

    fn update_enrollment(&self, e: &Enrollment) -> StoreResult<()> {
        Self::write_enrollment(&self.conn(), e, false)
    }

    fn scan(&self, e: &Enrollment, qr_nonce: &str) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let used_by: Option<String> = tx
            .query_row(
                "SELECT enrollment_id FROM qr_uses WHERE nonce = ?1",
                [qr_nonce],
                |r| r.get(0),
            )
            .optional()?;
        match used_by {
            Some(other) if other != e.id => return Ok(false),
            Some(_) => {}
            None => {
                tx.execute(
                    "INSERT INTO qr_uses (nonce, enrollment_id) VALUES (?1, ?2)",
                    params![qr_nonce, e.id],
                )?;
            }
        }
        Self::write_enrollment(&tx, e, false)?;
        tx.commit()?;
        Ok(true)
    }

    fn queue(&self, desk_id: &str) -> StoreResult<Vec<Enrollment>> {
        let conn = self.conn();
        Self::read_enrollments(
            &conn,
            "SELECT data, selfie FROM enrollments WHERE desk_id = ?1 AND status = 'scanned'
             ORDER BY scanned_at",
            &[&desk_id],
        )
    }

    fn activate(&self, e: &Enrollment, device: &Device, tokens: &[TokenRow]) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        Self::write_enrollment(&tx, e, false)?;
        tx.execute(
            "UPDATE devices SET status = 'revoked' WHERE nik = ?1 AND status = 'active' AND thumb <> ?2",
            params![device.nik, device.thumb],
        )?;
        tx.execute(
            "INSERT INTO devices (thumb, nik, enrollment_id, jwk, status, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(thumb) DO UPDATE SET nik = excluded.nik, enrollment_id = excluded.enrollment_id,
               jwk = excluded.jwk, status = excluded.status, created_at = excluded.created_at",
            params![
                device.thumb,
                device.nik,
                device.enrollment_id,
                to_json(&device.jwk)?,
                device.status.as_str(),
                ts(device.created_at)
            ],
        )?;
        for t in tokens {
            insert_token(&tx, t)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn begin_reauth(&self, e: &Enrollment, thumb: &str) -> StoreResult<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        Self::write_enrollment(&tx, e, false)?;
        let n = tx.execute("DELETE FROM tokens WHERE device_thumb = ?1", [thumb])?;
        tx.commit()?;
        Ok(n)
    }

    fn finish_reauth(&self, e: &Enrollment, thumb: &str, tokens: &[TokenRow]) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let status: Option<String> = tx
            .query_row(
                "SELECT status FROM devices WHERE thumb = ?1",
                [thumb],
                |r| r.get(0),
            )
            .optional()?;
        if status.as_deref() != Some("active") {
            return Ok(false);
        }
        Self::write_enrollment(&tx, e, false)?;
        for t in tokens {
            insert_token(&tx, t)?;
        }
        tx.commit()?;
        Ok(true)
    }

    fn device(&self, thumb: &str) -> StoreResult<Option<Device>> {
        let row = self
            .conn()
            .query_row(
                "SELECT thumb, nik, enrollment_id, jwk, status, created_at FROM devices WHERE thumb = ?1",
                [thumb],
                Self::read_device,
            )
            .optional()?;
        row.map(|(thumb, nik, enrollment_id, jwk, status, created)| {
            Ok(Device {
                thumb,
                nik,
                enrollment_id,
                jwk: from_json(&jwk)?,
                status: DeviceStatus::parse(&status)?,
                created_at: parse_ts(&created)?,
            })
        })
        .transpose()
    }

    fn set_device_status(&self, thumb: &str, status: DeviceStatus) -> StoreResult<()> {
        self.conn().execute(
            "UPDATE devices SET status = ?2 WHERE thumb = ?1",
            params![thumb, status.as_str()],
        )?;
        Ok(())
    }

    fn set_devices_of(&self, nik: &str, status: DeviceStatus) -> StoreResult<usize> {
        Ok(self.conn().execute(
            "UPDATE devices SET status = ?2 WHERE nik = ?1 AND status = 'active'",
            params![nik, status.as_str()],
        )?)
    }

    fn insert_token(&self, t: &TokenRow) -> StoreResult<()> {
        insert_token(&self.conn(), t)
    }

    fn token(&self, hash: &str) -> StoreResult<Option<TokenRow>> {
        let row = self
            .conn()
            .query_row(
                "SELECT hash, kind, device_thumb, nik, enrollment_id, expires_at FROM tokens WHERE hash = ?1",
                [hash],
                Self::read_device,
            )
            .optional()?;
        row.map(|(hash, kind, device_thumb, nik, enrollment_id, expires)| {
            Ok(TokenRow {
                hash,
                kind: if kind == "refresh" {
                    TokenKind::Refresh
                } else {
                    TokenKind::Access
                },
                device_thumb,
                nik,
                enrollment_id,
                expires_at: parse_ts(&expires)?,
            })
        })
        .transpose()
    }

    fn insert_nonce(&self, nonce: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        self.conn().execute(
            "INSERT INTO nonces (nonce, expires_at) VALUES (?1, ?2)",
            params![nonce, ts(expires_at)],
        )?;
        Ok(())
    }

    fn take_nonce(&self, nonce: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let exp: Option<String> = tx
            .query_row(
                "SELECT expires_at FROM nonces WHERE nonce = ?1",
                [nonce],
                |r| r.get(0),
            )
            .optional()?;
        tx.execute("DELETE FROM nonces WHERE nonce = ?1", [nonce])?;
        // Housekeeping: drop expired nonces.
        tx.execute("DELETE FROM nonces WHERE expires_at < ?1", [ts(now)])?;
        tx.commit()?;
        match exp {
            Some(e) => Ok(parse_ts(&e)? > now),
            None => Ok(false),
        }
    }

    fn put_officer(&self, o: &Officer) -> StoreResult<()> {
        self.conn().execute(
            "INSERT INTO officers (username, password_hash, desk_id, desk_name) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash,
               desk_id = excluded.desk_id, desk_name = excluded.desk_name",
            params![o.username, o.password_hash, o.desk_id, o.desk_name],
        )?;
        Ok(())
    }

    fn officer(&self, username: &str) -> StoreResult<Option<Officer>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT username, password_hash, desk_id, desk_name FROM officers WHERE username = ?1",
                [username],
                |r| {
                    Ok(Officer {
                        username: r.get(0)?,
                        password_hash: r.get(1)?,
                        desk_id: r.get(2)?,
                        desk_name: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    fn insert_session(
        &self,
        hash: &str,
        username: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.conn().execute(
            "INSERT INTO sessions (hash, username, expires_at) VALUES (?1, ?2, ?3)",
            params![hash, username, ts(expires_at)],
        )?;
        Ok(())
    }

    fn session(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<String>> {
        let row: Option<(String, String)> = self
            .conn()
            .query_row(
                "SELECT username, expires_at FROM sessions WHERE hash = ?1",
                [hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match row {
            Some((u, exp)) if parse_ts(&exp)? > now => Ok(Some(u)),
            _ => Ok(None),
        }
    }

    fn push_outbox(&self, mail: &OutboxMail) -> StoreResult<()> {
        self.conn().execute(
            "INSERT INTO outbox (to_addr, subject, body, sent_at) VALUES (?1, ?2, ?3, ?4)",
            params![mail.to, mail.subject, mail.body, mail.sent_at],
        )?;
        Ok(())
    }

    fn outbox(&self) -> StoreResult<Vec<OutboxMail>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT to_addr, subject, body, sent_at FROM outbox ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(OutboxMail {
                to: r.get(0)?,
                subject: r.get(1)?,
                body: r.get(2)?,
                sent_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

fn insert_token(conn: &Connection, t: &TokenRow) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO tokens (hash, kind, device_thumb, nik, enrollment_id, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            t.hash,
            match t.kind {
                TokenKind::Access => "access",
                TokenKind::Refresh => "refresh",
            },
            t.device_thumb,
            t.nik,
            t.enrollment_id,
            ts(t.expires_at)
        ],
    )?;
    Ok(())
}

/// Order of relationships on the KK.
pub fn hubungan_order(h: &str) -> i64 {
    match h {
        "KEPALA KELUARGA" => 0,
        "SUAMI" => 1,
        "ISTRI" => 2,
        "ANAK" => 3,
        "MENANTU" => 4,
        "CUCU" => 5,
        "ORANG TUA" => 6,
        "MERTUA" => 7,
        _ => 9,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn migrations_apply_once_and_nonces_are_single_use() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.sqlite3");
        {
            let s = SqliteStore::open(&p).unwrap();
            let now = Utc::now();
            s.insert_nonce("n1", now + chrono::Duration::minutes(5))
                .unwrap();
            assert!(s.take_nonce("n1", now).unwrap());
            assert!(!s.take_nonce("n1", now).unwrap());
        }
        // Reopening does not re-run migrations.
        let s = SqliteStore::open(&p).unwrap();
        assert_eq!(s.resident_count().unwrap(), 0);
    }
}
