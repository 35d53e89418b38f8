//! Face check time on a 600×800 selfie (what the app and the server run per selfie).
//!
//! `cargo bench -p ikd-face --bench detect -- --warm-up-time 1 --measurement-time 5 --sample-size 20`

use criterion::{criterion_group, criterion_main, Criterion};

fn selfie_600x800() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/astronaut_3x4_gray.png"
    );
    let img = image::open(path)
        .expect("the committed fixture decodes")
        .to_luma8();
    image::imageops::resize(&img, 600, 800, image::imageops::FilterType::Triangle).into_raw()
}

fn bench(c: &mut Criterion) {
    let gray = selfie_600x800();
    let outcome = ikd_face::check_portrait(&gray, 600, 800).expect("600x800 is a valid size");
    assert!(outcome.is_ok(), "{outcome:?}");
    let mut g = c.benchmark_group("face");
    g.bench_function("check_portrait 600x800", |b| {
        b.iter(|| ikd_face::check_portrait(&gray, 600, 800))
    });
    g.bench_function("detect 600x800 from 40 px", |b| {
        b.iter(|| ikd_face::detect(&gray, 600, 800, 40))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
