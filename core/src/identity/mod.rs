//! Identity rules, one module per concept.
pub mod email;
pub mod kk;
pub mod nik;
pub mod phone;
pub mod region;
