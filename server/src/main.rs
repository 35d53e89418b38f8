//! ikd-server binary.
fn main() {}
