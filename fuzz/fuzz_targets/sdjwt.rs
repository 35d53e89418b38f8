//! `sdjwt::verify` (and `split`, `present`) on arbitrary strings against a fixed
//! issuer key: typed errors only. Seeded with credentials that key really issued.
#![no_main]

use ikd_core::sdjwt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let jwk = ikd_fuzz::issuer_jwk();
    let now = ikd_fuzz::now();
    let plain = sdjwt::verify(&s, jwk, None, now);
    let bound = sdjwt::verify(&s, jwk, Some(ikd_fuzz::holder_jwk()), now);
    // Binding the holder can only refuse more, never accept more.
    if bound.is_ok() {
        assert!(plain.is_ok());
    }
    let _ = sdjwt::split(&s);
    if let Ok(p) = sdjwt::present(&s, |_| true) {
        let _ = sdjwt::verify(&p, jwk, None, now);
    }
    if let Ok(p) = sdjwt::present(&s, |n| n.len() % 2 == 0) {
        let _ = sdjwt::verify(&p, jwk, None, now);
    }
});
