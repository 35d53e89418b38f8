//! The selfie pipeline as the app calls it (`ikd_core::selfie::process`, the
//! re-export of `ikd-selfie`) on a 12 MP (4000×3000) photo-like JPEG, side by side
//! with libjpeg-turbo's full-size decode of the same file, `djpeg` as a process and
//! in-process, in one run. The comparison itself is shared with ikd-selfie's bench
//! (`selfie/benches/common/compare.rs`); it prints each median as a fraction of
//! `djpeg`'s at the end.
//!
//! `cargo bench -p ikd-core --bench selfie -- --warm-up-time 1 --measurement-time 5 --sample-size 20`
//!
//! Target (issue 14): `pipeline` ≤ 0.9 × `djpeg_full_decode`.

#[path = "../../selfie/benches/common/sample.rs"]
mod sample;

#[path = "../../selfie/benches/common/compare.rs"]
mod compare;

fn main() {
    compare::run(&|jpeg| {
        ikd_core::selfie::process(jpeg).expect("the sample is a valid selfie");
    });
}
