//! The PIN-gated document vault. STUB: owned by the vault work.
