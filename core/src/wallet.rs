//! The facade the app calls. STUB: owned by the app work.
