//! The selfie pipeline on arbitrary bytes: typed errors only, and a success is always
//! a 600x800 JPEG within the size limit. Both entry points run: the borrowed one (the
//! app) and the handed-over one (`ikd selfie`, which decodes in the caller's buffer),
//! and they must agree exactly.
#![no_main]

use ikd_selfie::{self as selfie, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small pixel limit keeps each run cheap; the header walk must refuse bigger
    // frames before any allocation.
    let limits = Limits {
        max_bytes: 1 << 20,
        max_pixels: 1 << 20,
        max_jpeg_bytes: 150_000,
    };
    let shared = selfie::process_with(data, &limits);
    if let Ok(p) = &shared {
        assert_eq!((p.width, p.height), (600, 800));
        assert!(p.jpeg.len() <= limits.max_jpeg_bytes);
        assert!(p.jpeg.starts_with(&[0xFF, 0xD8]));
        assert!((0.0..=255.0).contains(&p.brightness));
    }
    assert!(selfie::process_vec_with(data.to_vec(), &limits) == shared);
});
