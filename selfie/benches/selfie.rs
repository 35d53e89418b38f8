//! Selfie pipeline speed on a 12 MP (4000×3000) photo-like JPEG, side by side with
//! libjpeg-turbo's full-size decode of the same file (`common/compare.rs`; the same
//! comparison runs as `cargo bench -p ikd-core --bench selfie`).
//!
//! `cargo bench -p ikd-selfie --bench selfie -- --warm-up-time 1 --measurement-time 5 --sample-size 20`
//!
//! Built with the bench profile, which inherits the release profile: what ships
//! (ikd-selfie, libjpeg-turbo and the face detector at opt-level 3, the rest "z", fat
//! LTO). The sample is also written to `target/selfie_4000x3000.jpg` for whole-process
//! comparisons (`scripts/selfie-speed`).

#[path = "common/sample.rs"]
mod sample;

#[path = "common/compare.rs"]
mod compare;

fn main() {
    compare::run(&|jpeg| {
        ikd_selfie::process(jpeg).expect("the sample is a valid selfie");
    });
}
