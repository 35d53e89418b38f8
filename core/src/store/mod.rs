//! SQLite storage (schema-as-code migrations). STUB: owned by the vault work.
