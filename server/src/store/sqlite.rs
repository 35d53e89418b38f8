//! [`SqliteStore`]: the [`Store`] on one SQLite file (rusqlite, WAL), a small pool of
//! connections (each behind a mutex; readers run side by side, WAL serialises the
//! writers). Every multi-step write is one `BEGIN IMMEDIATE` transaction, so a
//! read-then-write never fails halfway on a lock upgrade.

use super::schema::MIGRATIONS;
use super::{
    hubungan_order, CredentialRow, DeskQrRow, Device, DeviceBlock, DeviceStatus, Enrollment, Mail,
    Officer, Readiness, Resident, Store, StoreError, StoreResult, TokenKind, TokenRow,
};
use chrono::{DateTime, Utc};
use ikd_proto::wire::{EnrollmentStatusWire, OutboxMail};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

/// Connections per file database (an in-memory one has one: each would be its own).
const POOL_SIZE: usize = 4;

/// Sets the status entries of every credential of the devices matched by `devices`
/// (an SQL condition on `devices`, e.g. `thumb = ?1`) to invalid.
const INVALIDATE_CREDENTIALS_OF: &str =
    "UPDATE credentials SET status = 1 WHERE status = 0 AND device_thumb IN (SELECT thumb FROM devices WHERE ";

pub struct SqliteStore {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
    /// Woken after a commit that queued mail (`super::outbox`).
    pub(super) mail_wake: std::sync::Arc<tokio::sync::Notify>,
    /// Woken after a commit that queued a face check (`super::facequeue`).
    pub(super) face_wake: std::sync::Arc<tokio::sync::Notify>,
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
        Self::open_upto(path, MIGRATIONS.len())
    }

    /// Opens `path` migrated to at most version `upto` (tests of the migrations).
    pub fn open_upto(path: &Path, upto: usize) -> StoreResult<Self> {
        let mut first = Connection::open(path)?;
        Self::configure(&first)?;
        Self::migrate(&mut first, upto)?;
        let mut conns = vec![Mutex::new(first)];
        for _ in 1..POOL_SIZE {
            let c = Connection::open(path)?;
            Self::configure(&c)?;
            conns.push(Mutex::new(c));
        }
        Ok(Self {
            conns,
            next: AtomicUsize::new(0),
            mail_wake: Default::default(),
            face_wake: Default::default(),
        })
    }

    pub fn open_in_memory() -> StoreResult<Self> {
        let mut conn = Connection::open_in_memory()?;
        Self::configure(&conn)?;
        Self::migrate(&mut conn, MIGRATIONS.len())?;
        Ok(Self {
            conns: vec![Mutex::new(conn)],
            next: AtomicUsize::new(0),
            mail_wake: Default::default(),
            face_wake: Default::default(),
        })
    }

    fn configure(conn: &Connection) -> StoreResult<()> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(())
    }

    /// Applies the migrations after the database's `user_version`, up to `upto`, in
    /// one transaction.
    fn migrate(conn: &mut Connection, upto: usize) -> StoreResult<()> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, m) in MIGRATIONS.iter().enumerate().take(upto) {
            let v = i as i64 + 1;
            if v > version {
                tx.execute_batch(m)?;
                tx.pragma_update(None, "user_version", v)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// A free connection if there is one, else waits for one in turn.
    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
        for c in &self.conns {
            match c.try_lock() {
                Ok(g) => return g,
                Err(TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        self.conns[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn write_enrollment(
        conn: &Connection,
        e: &Enrollment,
        insert: bool,
    ) -> StoreResult<()> {
        let data = to_json(e)?;
        let scanned = e.scanned_at.map(ts);
        if insert {
            conn.execute(
                "INSERT INTO enrollments (id, nik, status, desk_id, offer_hash, scanned_at, selfie, data, rev)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1)",
                params![e.id, e.nik, status_str(e.status), e.desk_id, e.offer_hash, scanned, e.selfie, data],
            )?;
            e.rev.set(1);
        } else {
            let rev = e.rev.get();
            let n = conn.execute(
                "UPDATE enrollments SET status = ?2, desk_id = ?3, offer_hash = ?4, scanned_at = ?5, data = ?6,
                   rev = rev + 1
                 WHERE id = ?1 AND rev = ?7",
                params![e.id, status_str(e.status), e.desk_id, e.offer_hash, scanned, data, rev],
            )?;
            if n == 0 {
                return Err(StoreError::Conflict);
            }
            e.rev.set(rev + 1);
        }
        super::facequeue::queue_sqlite(conn, e, Utc::now())?;
        Ok(())
    }

    /// [`Self::write_enrollment`] as its own transaction (the row and, when its record
    /// says a face check is pending, the queued check); wakes the face worker then.
    fn write_enrollment_alone(&self, e: &Enrollment, insert: bool) -> StoreResult<()> {
        let pending = super::FacePurpose::pending_in(e).next().is_some();
        {
            let mut conn = self.conn();
            if !pending {
                return Self::write_enrollment(&conn, e, insert);
            }
            let rev = e.rev.get();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            Self::write_enrollment(&tx, e, insert)?;
            if let Err(err) = tx.commit() {
                e.rev.set(rev);
                return Err(err.into());
            }
        }
        self.face_wake.notify_one();
        Ok(())
    }

    fn read_enrollments(
        conn: &Connection,
        sql: &str,
        p: &[&dyn rusqlite::ToSql],
    ) -> StoreResult<Vec<Enrollment>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(p, |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (data, rev) = row?;
            let e: Enrollment = from_json(&data)?;
            e.rev.set(rev);
            out.push(e);
        }
        Ok(out)
    }

    /// [`Store::activate`]'s transaction.
    fn activate_tx(
        &self,
        e: &Enrollment,
        device: &Device,
        tokens: &[TokenRow],
        mails: &[Mail],
    ) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        Self::write_enrollment(&tx, e, false)?;
        tx.execute(
            &format!("{INVALIDATE_CREDENTIALS_OF} nik = ?1 AND status = 'active' AND thumb <> ?2)"),
            params![device.nik, device.thumb],
        )?;
        tx.execute(
            "UPDATE devices SET status = 'revoked' WHERE nik = ?1 AND status = 'active' AND thumb <> ?2",
            params![device.nik, device.thumb],
        )?;
        tx.execute(
            "INSERT INTO devices (thumb, nik, enrollment_id, jwk, status, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(thumb) DO UPDATE SET enrollment_id = excluded.enrollment_id,
               created_at = excluded.created_at
             WHERE devices.nik = excluded.nik AND devices.status = 'active'",
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
        let now = Utc::now();
        for m in mails {
            super::outbox::enqueue_sqlite(&tx, m, now)?;
        }
        tx.commit()?;
        Ok(())
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
    fn take_rate_token(
        &self,
        key: &str,
        burst: u32,
        per_minute: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<(), u64>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(f64, String)> = tx
            .query_row(
                "SELECT tokens, at FROM rate_buckets WHERE key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (tokens, at) = match row {
            Some((t, at)) => (t, parse_ts(&at)?),
            None => (f64::from(burst), now),
        };
        let (left, taken) = crate::ratelimit::take(tokens, at, burst, per_minute, now);
        tx.execute(
            "INSERT INTO rate_buckets (key, tokens, at) VALUES (?1, ?2, ?3)
             ON CONFLICT(key) DO UPDATE SET tokens = excluded.tokens, at = excluded.at",
            params![key, left, ts(now.max(at))],
        )?;
        tx.commit()?;
        Ok(taken)
    }

    fn prune_rate_buckets(&self, before: DateTime<Utc>) -> StoreResult<usize> {
        Ok(self
            .conn()
            .execute("DELETE FROM rate_buckets WHERE at < ?1", [ts(before)])?)
    }

    fn desk_qr(&self, candidate: &DeskQrRow, rotate_secs: i64) -> StoreResult<DeskQrRow> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row = tx
            .query_row(
                "SELECT desk_id, desk_name, nonce, text, issued_at, expires_at, used FROM desk_qrs
                 WHERE desk_id = ?1",
                [&candidate.desk_id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, bool>(6)?,
                    ))
                },
            )
            .optional()?;
        if let Some((desk_id, desk_name, nonce, text, issued, expires, used)) = row {
            let stored = DeskQrRow {
                desk_id,
                desk_name,
                nonce,
                text,
                issued_at: parse_ts(&issued)?,
                expires_at: parse_ts(&expires)?,
                used,
            };
            if stored.desk_name == candidate.desk_name
                && stored.still_shown(candidate.issued_at, rotate_secs)
            {
                return Ok(stored);
            }
        }
        let c = candidate;
        tx.execute(
            "INSERT INTO desk_qrs (desk_id, desk_name, nonce, text, issued_at, expires_at, used)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)
             ON CONFLICT(desk_id) DO UPDATE SET desk_name = excluded.desk_name, nonce = excluded.nonce,
               text = excluded.text, issued_at = excluded.issued_at, expires_at = excluded.expires_at,
               used = 0",
            params![c.desk_id, c.desk_name, c.nonce, c.text, ts(c.issued_at), ts(c.expires_at)],
        )?;
        tx.commit()?;
        Ok(c.clone())
    }

    fn desk_name(&self, desk_id: &str) -> StoreResult<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT desk_name FROM desk_qrs WHERE desk_id = ?1",
                [desk_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn readiness(&self) -> StoreResult<Readiness> {
        let v: i64 = self
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(Readiness {
            schema_version: v,
            expected_version: MIGRATIONS.len() as i64,
        })
    }

    fn resident_count(&self) -> StoreResult<usize> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM residents", [], |r| r.get(0))?;
        Ok(n as usize)
    }

    fn insert_residents(&self, residents: &[Resident]) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
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
        self.write_enrollment_alone(e, true)
    }

    fn enrollment(&self, id: &str) -> StoreResult<Option<Enrollment>> {
        let conn = self.conn();
        Ok(Self::read_enrollments(
            &conn,
            "SELECT data, rev FROM enrollments WHERE id = ?1",
            &[&id],
        )?
        .pop())
    }

    fn enrollment_by_offer(&self, offer_hash: &str) -> StoreResult<Option<Enrollment>> {
        let conn = self.conn();
        Ok(Self::read_enrollments(
            &conn,
            "SELECT data, rev FROM enrollments WHERE offer_hash = ?1",
            &[&offer_hash],
        )?
        .pop())
    }

    fn update_enrollment(&self, e: &Enrollment) -> StoreResult<()> {
        self.write_enrollment_alone(e, false)
    }

    fn selfie(&self, id: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .query_row("SELECT selfie FROM enrollments WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn scan(&self, e: &Enrollment, qr_nonce: &str) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
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
        tx.execute("UPDATE desk_qrs SET used = 1 WHERE nonce = ?1", [qr_nonce])?;
        Self::write_enrollment(&tx, e, false)?;
        tx.commit()?;
        Ok(true)
    }

    fn resets_in_review(&self) -> StoreResult<Vec<Enrollment>> {
        let conn = self.conn();
        Self::read_enrollments(
            &conn,
            "SELECT data, rev FROM enrollments WHERE status = 'activated'
             AND json_extract(data, '$.pin_reset.status') = 'review'",
            &[],
        )
    }

    fn queue(&self, desk_id: &str) -> StoreResult<Vec<Enrollment>> {
        let conn = self.conn();
        Self::read_enrollments(
            &conn,
            "SELECT data, rev FROM enrollments WHERE desk_id = ?1 AND status = 'scanned'
             ORDER BY scanned_at",
            &[&desk_id],
        )
    }

    fn activate(
        &self,
        e: &Enrollment,
        device: &Device,
        tokens: &[TokenRow],
        mails: &[Mail],
    ) -> StoreResult<()> {
        self.activate_tx(e, device, tokens, mails)?;
        if !mails.is_empty() {
            self.mail_wake.notify_one();
        }
        Ok(())
    }

    fn push_sms(&self, sms: &OutboxMail) -> StoreResult<()> {
        self.conn().execute(
            "INSERT INTO sms_outbox (to_addr, body, sent_at) VALUES (?1, ?2, ?3)",
            params![sms.to, sms.body, sms.sent_at],
        )?;
        Ok(())
    }

    fn sms_outbox(&self) -> StoreResult<Vec<OutboxMail>> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT to_addr, body, sent_at FROM sms_outbox ORDER BY id")?;
        let rows = st.query_map([], |r| {
            Ok(OutboxMail {
                to: r.get(0)?,
                subject: crate::sms::SMS_SUBJECT.to_owned(),
                body: r.get(1)?,
                sent_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn begin_reauth(&self, e: &Enrollment, thumb: &str, mails: &[Mail]) -> StoreResult<usize> {
        let n = {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            Self::write_enrollment(&tx, e, false)?;
            let n = tx.execute("DELETE FROM tokens WHERE device_thumb = ?1", [thumb])?;
            let now = Utc::now();
            for m in mails {
                super::outbox::enqueue_sqlite(&tx, m, now)?;
            }
            tx.commit()?;
            n
        };
        if !mails.is_empty() {
            self.mail_wake.notify_one();
        }
        if super::FacePurpose::pending_in(e).next().is_some() {
            self.face_wake.notify_one();
        }
        Ok(n)
    }

    fn finish_reauth(&self, e: &Enrollment, thumb: &str, tokens: &[TokenRow]) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
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

    fn active_devices_of(&self, nik: &str) -> StoreResult<Vec<(String, String)>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT thumb, enrollment_id FROM devices WHERE nik = ?1 AND status = 'active'",
        )?;
        let rows = st.query_map([nik], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn set_device_status(&self, thumb: &str, status: DeviceStatus) -> StoreResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if status != DeviceStatus::Active {
            tx.execute(&format!("{INVALIDATE_CREDENTIALS_OF} thumb = ?1)"), [thumb])?;
        }
        tx.execute(
            "UPDATE devices SET status = ?2 WHERE thumb = ?1",
            params![thumb, status.as_str()],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn set_devices_of(&self, nik: &str, status: DeviceStatus) -> StoreResult<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if status != DeviceStatus::Active {
            tx.execute(
                &format!("{INVALIDATE_CREDENTIALS_OF} nik = ?1 AND status = 'active')"),
                [nik],
            )?;
        }
        let n = tx.execute(
            "UPDATE devices SET status = ?2 WHERE nik = ?1 AND status = 'active'",
            params![nik, status.as_str()],
        )?;
        tx.commit()?;
        Ok(n)
    }

    fn record_credential(&self, row: &CredentialRow) -> StoreResult<bool> {
        let idx = i64::try_from(row.idx).map_err(|_| StoreError::Corrupt("idx".into()))?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let taken: Option<i64> = tx
            .query_row("SELECT idx FROM credentials WHERE idx = ?1", [idx], |r| {
                r.get(0)
            })
            .optional()?;
        if taken.is_some() {
            return Ok(false);
        }
        tx.execute(
            "UPDATE credentials SET status = 1 WHERE nik = ?1 AND vct = ?2 AND status = 0",
            params![row.nik, row.vct],
        )?;
        tx.execute(
            "INSERT INTO credentials (idx, nik, vct, device_thumb, status, issued_at)
             VALUES (?1, ?2, ?3, ?4, 0, ?5)",
            params![idx, row.nik, row.vct, row.device_thumb, ts(row.issued_at)],
        )?;
        tx.commit()?;
        Ok(true)
    }

    fn invalid_status_indexes(&self) -> StoreResult<Vec<u64>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT idx FROM credentials WHERE status <> 0")?;
        let rows = stmt.query_map([], |r| r.get::<_, i64>(0))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(u64::try_from(r?).map_err(|_| StoreError::Corrupt("idx".into()))?);
        }
        Ok(out)
    }

    fn credential_status(&self, idx: u64) -> StoreResult<Option<u8>> {
        let Ok(idx) = i64::try_from(idx) else {
            return Ok(None);
        };
        let v: Option<i64> = self
            .conn()
            .query_row(
                "SELECT status FROM credentials WHERE idx = ?1",
                [idx],
                |r| r.get(0),
            )
            .optional()?;
        Ok(v.map(|s| u8::try_from(s).unwrap_or(1)))
    }

    fn insert_token(&self, t: &TokenRow) -> StoreResult<()> {
        insert_token(&self.conn(), t)
    }

    fn token(&self, hash: &str) -> StoreResult<Option<TokenRow>> {
        let row = self
            .conn()
            .query_row(
                "SELECT hash, kind, device_thumb, nik, enrollment_id, expires_at, dpop_jkt FROM tokens WHERE hash = ?1",
                [hash],
                |r| Ok((Self::read_device(r)?, r.get::<_, Option<String>>(6)?)),
            )
            .optional()?;
        row.map(
            |((hash, kind, device_thumb, nik, enrollment_id, expires), dpop_jkt)| {
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
                    dpop_jkt,
                })
            },
        )
        .transpose()
    }

    fn use_dpop_jti(
        &self,
        key: &str,
        keep_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM dpop_jtis WHERE expires_at < ?1", [ts(now)])?;
        let n = tx.execute(
            "INSERT OR IGNORE INTO dpop_jtis (key, expires_at) VALUES (?1, ?2)",
            params![key, ts(keep_until)],
        )?;
        tx.commit()?;
        Ok(n == 1)
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
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exp: Option<String> = tx
            .query_row(
                "SELECT expires_at FROM nonces WHERE nonce = ?1",
                [nonce],
                |r| r.get(0),
            )
            .optional()?;
        tx.execute("DELETE FROM nonces WHERE nonce = ?1", [nonce])?;
        tx.commit()?;
        match exp {
            Some(e) => Ok(parse_ts(&e)? > now),
            None => Ok(false),
        }
    }

    fn prune_expired_nonces(&self, now: DateTime<Utc>) -> StoreResult<usize> {
        Ok(self
            .conn()
            .execute("DELETE FROM nonces WHERE expires_at < ?1", [ts(now)])?)
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

    fn delete_session(&self, hash: &str) -> StoreResult<()> {
        self.conn()
            .execute("DELETE FROM sessions WHERE hash = ?1", [hash])?;
        Ok(())
    }

    fn block_devices(&self, block: &DeviceBlock) -> StoreResult<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            &format!("{INVALIDATE_CREDENTIALS_OF} nik = ?1 AND status = 'active')"),
            [&block.nik],
        )?;
        let n = tx.execute(
            "UPDATE devices SET status = 'blocked' WHERE nik = ?1 AND status = 'active'",
            [&block.nik],
        )?;
        tx.execute(
            "INSERT INTO device_blocks (nik, officer, reason, devices, blocked_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                block.nik,
                block.officer,
                block.reason,
                n as i64,
                ts(block.blocked_at)
            ],
        )?;
        tx.commit()?;
        Ok(n)
    }

    fn device_blocks(&self, limit: usize) -> StoreResult<Vec<DeviceBlock>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT nik, officer, reason, devices, blocked_at FROM device_blocks
             ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = st.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (nik, officer, reason, devices, at) = row?;
            Ok(DeviceBlock {
                nik,
                officer,
                reason,
                devices: usize::try_from(devices).unwrap_or(0),
                blocked_at: parse_ts(&at)?,
            })
        })
        .collect()
    }

    fn login_locked_until(&self, account: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let until: Option<Option<String>> = self
            .conn()
            .query_row(
                "SELECT locked_until FROM login_failures WHERE account = ?1",
                [account],
                |r| r.get(0),
            )
            .optional()?;
        until.flatten().map(|t| parse_ts(&t)).transpose()
    }

    fn login_failed(
        &self,
        account: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let failures: i64 = tx.query_row(
            "INSERT INTO login_failures (account, failures) VALUES (?1, 1)
             ON CONFLICT(account) DO UPDATE SET failures = failures + 1
             RETURNING failures",
            [account],
            |r| r.get(0),
        )?;
        let until = crate::ratelimit::lock_for(u32::try_from(failures).unwrap_or(u32::MAX))
            .map(|d| now + d);
        if let Some(u) = until {
            tx.execute(
                "UPDATE login_failures SET locked_until = ?2 WHERE account = ?1",
                params![account, ts(u)],
            )?;
        }
        tx.commit()?;
        Ok(until)
    }

    fn login_cleared(&self, account: &str) -> StoreResult<()> {
        self.conn()
            .execute("DELETE FROM login_failures WHERE account = ?1", [account])?;
        Ok(())
    }

    fn outbox(&self) -> StoreResult<Vec<OutboxMail>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached(
            "SELECT to_addr, subject, body, sent_at FROM outbox WHERE status <> 'superseded' ORDER BY id",
        )?;
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
        "INSERT INTO tokens (hash, kind, device_thumb, nik, enrollment_id, expires_at, dpop_jkt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            t.hash,
            match t.kind {
                TokenKind::Access => "access",
                TokenKind::Refresh => "refresh",
            },
            t.device_thumb,
            t.nik,
            t.enrollment_id,
            ts(t.expires_at),
            t.dpop_jkt
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Issue 11 item 8: expired nonces go by the background pruning, through an index
    /// on the expiry (before the fix: no index, pruned only inside `take_nonce`).
    #[test]
    fn expired_nonces_are_pruned_through_the_expiry_index() {
        let s = SqliteStore::open_in_memory().unwrap();
        let now = Utc::now();
        for i in 0..5 {
            s.insert_nonce(&format!("old{i}"), now - chrono::Duration::seconds(1))
                .unwrap();
        }
        s.insert_nonce("fresh", now + chrono::Duration::minutes(5))
            .unwrap();
        assert_eq!(s.prune_expired_nonces(now).unwrap(), 5);
        assert_eq!(s.prune_expired_nonces(now).unwrap(), 0);
        assert!(s.take_nonce("fresh", now).unwrap());
        let plan: String = s
            .conn()
            .query_row(
                "EXPLAIN QUERY PLAN DELETE FROM nonces WHERE expires_at < ?1",
                [ts(now)],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("nonces_expiry"), "{plan}");
    }

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
        {
            let s = SqliteStore::open(&p).unwrap();
            let now = Utc::now();
            let later = now + chrono::Duration::minutes(10);
            assert!(s.use_dpop_jti("k1", later, now).unwrap());
            assert!(!s.use_dpop_jti("k1", later, now).unwrap(), "replayed jti");
            // Past its time it is dropped (the proof is too old to be accepted anyway).
            let much_later = later + chrono::Duration::seconds(1);
            assert!(s.use_dpop_jti("k1", much_later, much_later).unwrap());
        }
        // Reopening does not re-run migrations.
        let s = SqliteStore::open(&p).unwrap();
        assert_eq!(s.resident_count().unwrap(), 0);
    }

    #[test]
    fn a_new_credential_replaces_the_old_and_indexes_are_unique() {
        let s = SqliteStore::open_in_memory().unwrap();
        let row = |idx, vct: &str| CredentialRow {
            idx,
            nik: "1671234567890001".into(),
            vct: vct.into(),
            device_thumb: "t1".into(),
            issued_at: Utc::now(),
        };
        assert!(s.record_credential(&row(7, "ktp")).unwrap());
        assert!(s.record_credential(&row(9, "kk")).unwrap());
        assert!(!s.record_credential(&row(7, "kk")).unwrap(), "idx taken");
        assert_eq!(s.credential_status(7).unwrap(), Some(0));
        // a refresh: the new KTP replaces the old one, the KK stays valid
        assert!(s.record_credential(&row(11, "ktp")).unwrap());
        assert_eq!(s.credential_status(7).unwrap(), Some(1));
        assert_eq!(s.credential_status(9).unwrap(), Some(0));
        assert_eq!(s.credential_status(11).unwrap(), Some(0));
        assert_eq!(s.credential_status(12).unwrap(), None);
        assert_eq!(s.invalid_status_indexes().unwrap(), vec![7]);
    }
}
