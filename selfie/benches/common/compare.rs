//! The selfie speed comparison shared by `selfie/benches/selfie.rs` (ikd-selfie) and
//! `core/benches/selfie.rs` (ikd-core, through its re-export): the pipeline on a
//! 12 MP (4000×3000) photo-like JPEG, with and without an EXIF orientation, side by
//! side with libjpeg-turbo's full-size decode of the same file, as `djpeg` processes
//! (as the issue measures it) and in-process. At the end it prints each case's median
//! as a fraction of `djpeg`'s. The including bench also declares `mod sample`
//! (`common/sample.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::Criterion;

use crate::sample::sample_jpeg;

/// The same JPEG with an EXIF orientation 6 segment: how phones store a portrait.
fn with_orientation_6(jpeg: &[u8]) -> Vec<u8> {
    let mut payload = b"Exif\0\0II*\0".to_vec();
    payload.extend_from_slice(&8u32.to_le_bytes());
    payload.extend_from_slice(&1u16.to_le_bytes());
    payload.extend_from_slice(&0x0112u16.to_le_bytes());
    payload.extend_from_slice(&3u16.to_le_bytes());
    payload.extend_from_slice(&1u32.to_le_bytes());
    payload.extend_from_slice(&6u16.to_le_bytes());
    payload.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

const GROUP: &str = "selfie_4000x3000";

fn bench(c: &mut Criterion, jpeg: &[u8], path: &Path, pipeline: &dyn Fn(&[u8])) -> bool {
    let portrait = with_orientation_6(jpeg);
    let djpeg = Command::new("djpeg")
        .args(["-outfile", "/dev/null"])
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());

    let mut g = c.benchmark_group(GROUP);
    g.bench_function("pipeline", |b| {
        b.iter(|| pipeline(std::hint::black_box(jpeg)))
    });
    g.bench_function("pipeline_exif6", |b| {
        b.iter(|| pipeline(std::hint::black_box(&portrait)))
    });
    // libjpeg-turbo (the decoder the pipeline uses) at full size, in-process.
    let mut tj = turbojpeg::Decompressor::new().expect("TurboJPEG handle");
    let header = tj.read_header(jpeg).expect("valid sample");
    let mut rgb = vec![0u8; header.width * header.height * 3];
    g.bench_function("libjpeg_turbo_full_decode", |b| {
        b.iter(|| {
            tj.decompress(
                std::hint::black_box(jpeg),
                turbojpeg::Image {
                    pixels: &mut rgb[..],
                    width: header.width,
                    pitch: header.width * 3,
                    height: header.height,
                    format: turbojpeg::PixelFormat::RGB,
                },
            )
            .expect("valid sample")
        })
    });
    if djpeg {
        // djpeg as the issue measures it: a whole process, PPM to /dev/null.
        g.bench_function("djpeg_full_decode", |b| {
            b.iter(|| {
                Command::new("djpeg")
                    .args(["-outfile", "/dev/null"])
                    .arg(path)
                    .status()
                    .expect("djpeg runs")
            })
        });
    } else {
        eprintln!("djpeg not found (libjpeg-turbo-progs): no side-by-side djpeg case");
    }
    g.finish();
    djpeg
}

/// Criterion's median point estimate of one case, in nanoseconds.
fn median_ns(dir: &Path, case: &str) -> Option<f64> {
    let path = dir.join(GROUP).join(case).join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// Runs the comparison with `pipeline` as the selfie pipeline (it must accept the
/// sample; panicking otherwise).
pub fn run(pipeline: &dyn Fn(&[u8])) {
    let jpeg = sample_jpeg();
    let dir = target_dir();
    let path = dir.join("selfie_4000x3000.jpg");
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &jpeg)) {
        eprintln!("cannot write {}: {e}", path.display());
    }
    eprintln!("sample: {} ({} bytes)", path.display(), jpeg.len());

    let mut c = Criterion::default().configure_from_args();
    let djpeg = bench(&mut c, &jpeg, &path, pipeline);
    c.final_summary();

    let crit = dir.join("criterion");
    let base = if djpeg {
        "djpeg_full_decode"
    } else {
        "libjpeg_turbo_full_decode"
    };
    if let Some(b) = median_ns(&crit, base) {
        for case in [
            "pipeline",
            "pipeline_exif6",
            "libjpeg_turbo_full_decode",
            "djpeg_full_decode",
        ] {
            if let Some(m) = median_ns(&crit, case) {
                println!(
                    "{case:28} median {:7.2} ms = {:.2} × {base}",
                    m / 1e6,
                    m / b
                );
            }
        }
    }
}
