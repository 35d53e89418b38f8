// temporary: stage timings
use std::time::Instant;
fn t<R>(name: &str, n: u32, mut f: impl FnMut() -> R) {
    let _ = f();
    let s = Instant::now();
    for _ in 0..n {
        std::hint::black_box(f());
    }
    eprintln!(
        "{name:40} {:7.2} ms",
        s.elapsed().as_secs_f64() * 1e3 / n as f64
    );
}
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let jpeg = std::fs::read(&path).unwrap();
    let n = 10;
    t("process", n, || ikd_selfie::process(&jpeg).unwrap());
    for (num, fmt, nm) in [
        (8, turbojpeg::PixelFormat::RGB, "rgb"),
        (4, turbojpeg::PixelFormat::RGB, "rgb"),
        (3, turbojpeg::PixelFormat::RGB, "rgb"),
        (2, turbojpeg::PixelFormat::RGB, "rgb"),
        (1, turbojpeg::PixelFormat::RGB, "rgb"),
        (3, turbojpeg::PixelFormat::GRAY, "gray"),
        (1, turbojpeg::PixelFormat::GRAY, "gray"),
    ] {
        let mut d = turbojpeg::Decompressor::new().unwrap();
        let f = turbojpeg::ScalingFactor::new(num, 8);
        d.set_scaling_factor(f).unwrap();
        d.set_fast_upsample(true).unwrap();
        let h = d.read_header(&jpeg).unwrap().scaled(f);
        let c = if nm == "gray" { 1 } else { 3 };
        let mut px = vec![0u8; h.width * h.height * c];
        t(&format!("decode {num}/8 {nm}"), n, || {
            d.decompress(
                &jpeg,
                turbojpeg::Image {
                    pixels: &mut px[..],
                    width: h.width,
                    pitch: h.width * c,
                    height: h.height,
                    format: fmt,
                },
            )
            .unwrap()
        });
    }
    for num in [3, 2] {
        let mut d = turbojpeg::Decompressor::new().unwrap();
        let f = turbojpeg::ScalingFactor::new(num, 8);
        d.set_scaling_factor(f).unwrap();
        let hd = d.read_header(&jpeg).unwrap();
        let h = hd.scaled(f);
        let len = turbojpeg::yuv_pixels_len(h.width, 1, h.height, hd.subsamp).unwrap();
        let mut px = vec![0u8; len];
        t(&format!("decode {num}/8 yuv"), n, || {
            d.decompress_to_yuv(
                &jpeg,
                turbojpeg::YuvImage {
                    pixels: &mut px[..],
                    width: h.width,
                    align: 1,
                    height: h.height,
                    subsamp: hd.subsamp,
                },
            )
            .unwrap()
        });
    }
    let out = ikd_selfie::process(&jpeg).unwrap();
    let img = image::load_from_memory(&out.jpeg).unwrap();
    let rgb = img.to_rgb8().into_raw();
    let gray = img.to_luma8().into_raw();
    t("face check_portrait 600x800", n, || {
        ikd_face::check_portrait(&gray, 600, 800).unwrap()
    });
    for q in [85u8] {
        t(&format!("encode q{q} opt"), n, || {
            let mut o = Vec::new();
            let mut e = jpeg_encoder::Encoder::new(&mut o, q);
            e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
            e.set_optimized_huffman_tables(true);
            e.encode(&rgb, 600, 800, jpeg_encoder::ColorType::Rgb)
                .unwrap();
            o
        });
        t(&format!("encode q{q} std"), n, || {
            let mut o = Vec::new();
            let mut e = jpeg_encoder::Encoder::new(&mut o, q);
            e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
            e.encode(&rgb, 600, 800, jpeg_encoder::ColorType::Rgb)
                .unwrap();
            o
        });
    }
    let mut c = turbojpeg::Compressor::new().unwrap();
    c.set_quality(85).unwrap();
    c.set_subsamp(turbojpeg::Subsamp::Sub2x2).unwrap();
    t("turbojpeg encode q85", n, || {
        c.compress_to_vec(turbojpeg::Image {
            pixels: &rgb[..],
            width: 600,
            pitch: 1800,
            height: 800,
            format: turbojpeg::PixelFormat::RGB,
        })
        .unwrap()
    });
    c.set_optimize(true).unwrap();
    t("turbojpeg encode q85 opt", n, || {
        c.compress_to_vec(turbojpeg::Image {
            pixels: &rgb[..],
            width: 600,
            pitch: 1800,
            height: 800,
            format: turbojpeg::PixelFormat::RGB,
        })
        .unwrap()
    });
    eprintln!("out {} bytes", out.jpeg.len());
}
