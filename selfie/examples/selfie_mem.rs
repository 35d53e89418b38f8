//! Runs the selfie pipeline once on a file, for peak-memory and wall-time
//! measurement with `/usr/bin/time -v` or `hyperfine`.
//!
//! `selfie_mem <in.jpg|png> [out.jpg]`

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let Some(input) = args.get(1) else {
        eprintln!("usage: selfie_mem <in.jpg|png> [out.jpg]");
        return std::process::ExitCode::from(2);
    };
    let bytes = match std::fs::read(input) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("read {input}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match ikd_selfie::process(&bytes) {
        Ok(p) => {
            println!(
                "{}x{} {} bytes brightness {:.1} sharpness {:.1} verdicts {:?}",
                p.width,
                p.height,
                p.jpeg.len(),
                p.brightness,
                p.sharpness,
                p.verdicts
            );
            if let Some(out) = args.get(2) {
                if let Err(e) = std::fs::write(out, &p.jpeg) {
                    eprintln!("write {out}: {e}");
                    return std::process::ExitCode::from(2);
                }
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("refused: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
