//! The SQLite schema, as code: migrations applied in order, counted by
//! `PRAGMA user_version`.

/// Schema migrations, applied in order; `PRAGMA user_version` counts those applied.
pub const MIGRATIONS: &[&str] = &[
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
    // 3: issued credentials' Token Status List entries (status 0 valid, 1 invalid).
    r#"
CREATE TABLE credentials (
    idx INTEGER PRIMARY KEY,
    nik TEXT NOT NULL,
    vct TEXT NOT NULL,
    device_thumb TEXT NOT NULL,
    status INTEGER NOT NULL,
    issued_at TEXT NOT NULL
);
CREATE INDEX credentials_holder ON credentials(nik, vct);
CREATE INDEX credentials_device ON credentials(device_thumb);
"#,
    // 4: DPoP (RFC 9449): proofs' jti seen (single use, across nodes sharing the store),
    // and the key (JWK thumbprint) a token is bound to.
    r#"
CREATE TABLE dpop_jtis (
    key TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
);
ALTER TABLE tokens ADD COLUMN dpop_jkt TEXT;
"#,
    // 5: nonces by expiry (the background pruning deletes by it).
    r#"
CREATE INDEX nonces_expiry ON nonces(expires_at);
"#,
    // 6: enrollment revisions (compare-and-swap writes across connections and nodes).
    r#"
ALTER TABLE enrollments ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
"#,
    // 7: what a node must not keep only in memory: rate-limit buckets and each desk's
    // current QR (any node answers any request).
    r#"
CREATE TABLE rate_buckets (
    key TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE desk_qrs (
    desk_id TEXT PRIMARY KEY,
    desk_name TEXT NOT NULL,
    nonce TEXT NOT NULL,
    text TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used INTEGER NOT NULL
);
"#,
    // 8: answers of state-changing requests by Idempotency-Key (store/idempotency.rs);
    // status NULL while the first request runs; answer sealed with a key from the
    // request (not stored).
    r#"
CREATE TABLE idempotency (
    scope TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status INTEGER,
    answer BLOB,
    created_at TEXT NOT NULL
);
CREATE INDEX idempotency_age ON idempotency(created_at);
"#,
    // 9: the mail queue (store/outbox.rs). The dev outbox's table becomes the queue:
    // its rows so far were sent; times in ms since the epoch; `body` is emptied once a
    // mail is done with (it holds a code), except in dev mode.
    r#"
ALTER TABLE outbox ADD COLUMN status TEXT NOT NULL DEFAULT 'sent';
ALTER TABLE outbox ADD COLUMN purpose TEXT NOT NULL DEFAULT 'notice';
ALTER TABLE outbox ADD COLUMN enrollment_id TEXT;
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN claim TEXT;
ALTER TABLE outbox ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
CREATE INDEX outbox_due ON outbox(next_at) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_enrollment ON outbox(enrollment_id, id);
"#,
    // 10: officer security (issue 11 items 9 and 5): each device block with who, when and
    // why; failed officer logins per account (the lockout holds on every node); the
    // demo SMS gateway's messages (the dev outbox shows them).
    r#"
CREATE TABLE device_blocks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    nik TEXT NOT NULL,
    officer TEXT NOT NULL,
    reason TEXT NOT NULL,
    devices INTEGER NOT NULL,
    blocked_at TEXT NOT NULL
);
CREATE INDEX device_blocks_at ON device_blocks(blocked_at);
CREATE TABLE login_failures (
    account TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until TEXT
);
CREATE TABLE sms_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    to_addr TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at TEXT NOT NULL
);
"#,
    // 11: the face-check queue (store/facequeue.rs): a submit answers at once and a
    // worker on any node checks the selfie; times in ms since the epoch.
    r#"
CREATE TABLE face_checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    enrollment_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    claim TEXT,
    UNIQUE (enrollment_id, purpose)
);
CREATE INDEX face_checks_due ON face_checks(next_at) WHERE status IN ('pending', 'checking');
"#,
    // 12: resumable uploads (tus 1.0; store/uploads.rs): keyed by the SHA-256 of the
    // capability id; the offset was length(data) until migration 13; times in ms since
    // the epoch.
    r#"
CREATE TABLE uploads (
    key TEXT PRIMARY KEY,
    length INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX uploads_expiry ON uploads(expires_at);
"#,
    // 13: an upload's bytes as one row per chunk (an append inserts its chunk and
    // moves `received`, instead of rewriting every byte so far: linear on 2G's 4 KB
    // chunks); an upload in flight keeps what it has as its chunk at offset 0.
    r#"
CREATE TABLE upload_chunks (
    key TEXT NOT NULL REFERENCES uploads(key) ON DELETE CASCADE,
    off INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (key, off)
);
ALTER TABLE uploads ADD COLUMN received INTEGER NOT NULL DEFAULT 0;
UPDATE uploads SET received = length(data);
INSERT INTO upload_chunks (key, off, data) SELECT key, 0, data FROM uploads WHERE length(data) > 0;
ALTER TABLE uploads DROP COLUMN data;
"#,
];

/// PostgreSQL schema migrations, applied in order; the `schema_version` table counts
/// those applied. The first is the schema as it was first shipped for PostgreSQL (a
/// test migrates a database written by it).
pub const PG_MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE residents (
    nik TEXT PRIMARY KEY,
    kk TEXT NOT NULL,
    ord BIGINT NOT NULL,
    data JSONB NOT NULL
);
CREATE INDEX residents_kk ON residents(kk);
CREATE TABLE enrollments (
    id TEXT PRIMARY KEY,
    nik TEXT NOT NULL,
    status TEXT NOT NULL,
    desk_id TEXT,
    offer_hash TEXT UNIQUE,
    scanned_at TIMESTAMPTZ,
    selfie BYTEA NOT NULL,
    data JSONB NOT NULL,
    rev BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX enrollments_desk ON enrollments(desk_id, status);
CREATE TABLE qr_uses (
    nonce TEXT PRIMARY KEY,
    enrollment_id TEXT NOT NULL
);
CREATE TABLE devices (
    thumb TEXT PRIMARY KEY,
    nik TEXT NOT NULL,
    enrollment_id TEXT NOT NULL,
    jwk JSONB NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX devices_nik ON devices(nik);
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    device_thumb TEXT NOT NULL,
    nik TEXT NOT NULL,
    enrollment_id TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    dpop_jkt TEXT
);
CREATE INDEX tokens_device ON tokens(device_thumb);
CREATE TABLE dpop_jtis (
    key TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX dpop_jtis_expiry ON dpop_jtis(expires_at);
CREATE TABLE nonces (
    nonce TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX nonces_expiry ON nonces(expires_at);
CREATE TABLE officers (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    desk_id TEXT NOT NULL,
    desk_name TEXT NOT NULL
);
CREATE TABLE sessions (
    hash TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at TEXT NOT NULL
);
CREATE TABLE credentials (
    idx BIGINT PRIMARY KEY,
    nik TEXT NOT NULL,
    vct TEXT NOT NULL,
    device_thumb TEXT NOT NULL,
    status INTEGER NOT NULL,
    issued_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX credentials_holder ON credentials(nik, vct);
CREATE INDEX credentials_device ON credentials(device_thumb);
"#,
    // 2: what a node must not keep only in memory: rate-limit buckets and each desk's
    // current QR (any node answers any request).
    r#"
CREATE TABLE rate_buckets (
    key TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX rate_buckets_at ON rate_buckets(at);
CREATE TABLE desk_qrs (
    desk_id TEXT PRIMARY KEY,
    desk_name TEXT NOT NULL,
    nonce TEXT NOT NULL,
    text TEXT NOT NULL,
    issued_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used BOOLEAN NOT NULL
);
"#,
    // 3: answers of state-changing requests by Idempotency-Key (store/idempotency.rs).
    r#"
CREATE TABLE idempotency (
    scope TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status INTEGER,
    answer BYTEA,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idempotency_age ON idempotency(created_at);
"#,
    // 4: the mail queue (store/outbox.rs); the dev outbox's rows so far were sent.
    r#"
ALTER TABLE outbox ADD COLUMN status TEXT NOT NULL DEFAULT 'sent';
ALTER TABLE outbox ADD COLUMN purpose TEXT NOT NULL DEFAULT 'notice';
ALTER TABLE outbox ADD COLUMN enrollment_id TEXT;
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE outbox ADD COLUMN claim TEXT;
ALTER TABLE outbox ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE outbox ADD COLUMN last_error TEXT;
CREATE INDEX outbox_due ON outbox(next_at) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_enrollment ON outbox(enrollment_id, id);
"#,
    // 5: officer security: device blocks (who, when, why); failed logins per account.
    r#"
CREATE TABLE device_blocks (
    id BIGSERIAL PRIMARY KEY,
    nik TEXT NOT NULL,
    officer TEXT NOT NULL,
    reason TEXT NOT NULL,
    devices BIGINT NOT NULL,
    blocked_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX device_blocks_at ON device_blocks(blocked_at);
CREATE TABLE login_failures (
    account TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    locked_until TIMESTAMPTZ
);
CREATE TABLE sms_outbox (
    id BIGSERIAL PRIMARY KEY,
    to_addr TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at TEXT NOT NULL
);
"#,
    // 6: the face-check queue (store/facequeue.rs).
    r#"
CREATE TABLE face_checks (
    id BIGSERIAL PRIMARY KEY,
    enrollment_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TIMESTAMPTZ NOT NULL,
    claim TEXT,
    UNIQUE (enrollment_id, purpose)
);
CREATE INDEX face_checks_due ON face_checks(next_at) WHERE status IN ('pending', 'checking');
"#,
    // 7: resumable uploads (tus 1.0; store/uploads.rs).
    r#"
CREATE TABLE uploads (
    key TEXT PRIMARY KEY,
    length BIGINT NOT NULL,
    data BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX uploads_expiry ON uploads(expires_at);
"#,
    // 8: JPEG bytes are stored out of line without compression: pglz would try every
    // selfie (already compressed), spend CPU and give up. Rows written from now on.
    r#"
ALTER TABLE enrollments ALTER COLUMN selfie SET STORAGE EXTERNAL;
ALTER TABLE uploads ALTER COLUMN data SET STORAGE EXTERNAL;
"#,
    // 9: an upload's bytes as one row per chunk (SQLite migration 13): an append is an
    // INSERT of its chunk and an UPDATE of `received` (was `data || chunk`, which
    // rewrote every byte so far), and a submit assembles the chunks inside PostgreSQL.
    r#"
CREATE TABLE upload_chunks (
    key TEXT NOT NULL REFERENCES uploads(key) ON DELETE CASCADE,
    off BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (key, off)
);
ALTER TABLE upload_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE uploads ADD COLUMN received BIGINT NOT NULL DEFAULT 0;
UPDATE uploads SET received = octet_length(data);
INSERT INTO upload_chunks (key, off, data) SELECT key, 0, data FROM uploads WHERE octet_length(data) > 0;
ALTER TABLE uploads DROP COLUMN data;
"#,
];
