//! One face check on a 600×800 grey picture read from a PNG, for instruction counts
//! (`valgrind --tool=callgrind`): `face_prof IN.png [N]` (N checks, default 1).

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: face_prof IN.png [N]");
        return std::process::ExitCode::from(2);
    };
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let img = match image::open(path) {
        Ok(i) => i.to_luma8(),
        Err(e) => {
            eprintln!("{path}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let gray = image::imageops::resize(&img, 600, 800, image::imageops::FilterType::Triangle);
    for _ in 0..n {
        println!("{:?}", ikd_face::check_portrait(gray.as_raw(), 600, 800));
    }
    std::process::ExitCode::SUCCESS
}
