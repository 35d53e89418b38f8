//! ikd-server library. STUB: owned by the server work.
