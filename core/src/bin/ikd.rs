//! `ikd`: developer CLI. JSON on stdout. STUB: owned by the identity work.
fn main() {}
