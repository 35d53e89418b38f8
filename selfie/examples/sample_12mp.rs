//! Writes the bench's 12 MP (4000×3000) photo-like JPEG to a file, for whole-process
//! comparisons (`scripts/selfie-speed`): `sample_12mp OUT.jpg`.

#[path = "../benches/common/sample.rs"]
mod sample;

fn main() -> std::process::ExitCode {
    let Some(out) = std::env::args().nth(1) else {
        eprintln!("usage: sample_12mp OUT.jpg");
        return std::process::ExitCode::from(2);
    };
    let jpeg = sample::sample_jpeg();
    match std::fs::write(&out, &jpeg) {
        Ok(()) => {
            println!("{out}: 4000x3000, {} bytes", jpeg.len());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("write {out}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
