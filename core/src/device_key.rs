//! The device P-256 key (kept under the key store). STUB: owned by the credentials work.
