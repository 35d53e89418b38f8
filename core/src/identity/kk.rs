//! STUB: owned by the identity work.
