//! Selfie pipeline. STUB: owned by the selfie work.
