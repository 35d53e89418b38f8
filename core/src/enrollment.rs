//! Enrollment state machine. STUB: owned by the identity work.
