//! Pixel decoding: JPEG through libjpeg-turbo (the `turbojpeg` crate, which builds
//! it from source) with DCT-domain downscaling, PNG through the `image` crate. Both
//! also return the EXIF orientation.

use std::io::Cursor;

use image::ImageDecoder;

use super::resample::{swaps_axes, Raster};
use super::split;
use super::SelfieError;

/// Decoded pixels, still in stored (not upright) orientation.
pub(crate) struct Decoded {
    pub raster: Raster,
    /// EXIF orientation 1–8 (1 when absent or unreadable).
    pub orientation: u32,
}

/// Reads the orientation tag from raw EXIF (TIFF) data. Unreadable EXIF counts
/// as "no rotation": the picture is still usable.
pub(crate) fn orientation_from_exif(raw: &[u8]) -> u32 {
    let tiff = raw.strip_prefix(b"Exif\0\0").unwrap_or(raw);
    exif::Reader::new()
        .read_raw(tiff.to_vec())
        .ok()
        .and_then(|e| {
            e.get_field(exif::Tag::Orientation, exif::In::PRIMARY)
                .and_then(|f| f.value.get_uint(0))
        })
        .filter(|o| (1..=8).contains(o))
        .unwrap_or(1)
}

fn map_tj(e: turbojpeg::Error) -> SelfieError {
    match e {
        // libjpeg's "Premature end of JPEG file" / "Corrupt JPEG data: premature end
        // of data segment": TurboJPEG reports these warnings as errors (it would
        // otherwise have filled the rest with grey).
        turbojpeg::Error::TurboJpegError(msg) if msg.contains("remature end") => {
            SelfieError::Truncated
        }
        other => SelfieError::Corrupt(format!("JPEG: {other}")),
    }
}

/// Progressive JPEGs with more scans than this are refused (a crafted file can
/// otherwise make every scan re-walk the whole image: libjpeg-turbo's advice).
const MAX_SCANS: u32 = 500;

/// The JPEG file to decode, and whether the decode may write to it while it works.
pub(crate) enum Source<'a> {
    /// Read only: the two-thread decode makes its head from a copy of the file.
    Shared(&'a [u8]),
    /// The caller's buffer: the two-thread decode cuts the frame height in place (no
    /// copy of a 4 MB file, nor its 900 fresh pages) and restores it before returning.
    Scratch(&'a mut [u8]),
}

impl Source<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Source::Shared(b) => b,
            Source::Scratch(b) => b,
        }
    }
}

/// Decodes a JPEG with libjpeg-turbo at the smallest DCT scale M/8 (M = 1…8) whose
/// result is still at least `out_w × out_h` once the EXIF `orientation` is applied,
/// so the 3:4 crop is downscaled (never upscaled) to the output size. The scaling
/// happens inside the inverse DCT, so a 12 MP photo is never made at full size.
pub(crate) fn jpeg(
    mut src: Source<'_>,
    data_end: Option<usize>,
    orientation: u32,
    out_w: usize,
    out_h: usize,
) -> Result<Decoded, SelfieError> {
    let mut dec = turbojpeg::Decompressor::new().map_err(map_tj)?;
    let header = dec.read_header(src.bytes()).map_err(map_tj)?;
    drop(dec);
    // The needed size in stored orientation.
    let (tw, th) = if swaps_axes(orientation) {
        (out_h, out_w)
    } else {
        (out_w, out_h)
    };
    let factor = if header.is_lossless {
        turbojpeg::ScalingFactor::ONE
    } else {
        (1..=8)
            .map(|m| turbojpeg::ScalingFactor::new(m, 8))
            .find(|f| f.scale(header.width) >= tw && f.scale(header.height) >= th)
            .unwrap_or(turbojpeg::ScalingFactor::ONE)
    };
    let scaled = header.scaled(factor);
    let (width, height) = (scaled.width, scaled.height);
    let (format, channels) = match header.colorspace {
        turbojpeg::Colorspace::Gray => (turbojpeg::PixelFormat::GRAY, 1),
        turbojpeg::Colorspace::CMYK | turbojpeg::Colorspace::YCCK => {
            (turbojpeg::PixelFormat::CMYK, 4)
        }
        _ => (turbojpeg::PixelFormat::RGB, 3),
    };
    let mut pixels = vec![0u8; width * height * channels];
    let out = Out {
        factor,
        format,
        width,
        channels,
    };
    let two_threads = channels != 4 && !header.is_lossless && !header.is_progressive && parallel();
    // Split in parts decoded on two threads when it can be (`split.rs`); on any
    // failure there the whole file is decoded again on one thread, which gives
    // libjpeg-turbo's own verdict.
    let split = two_threads
        && data_end
            .and_then(|end| split::plan_to(src.bytes(), end, TOP_FRACTION, split::MAX_TRIES))
            .is_some_and(|plan| decode_split(&mut src, &plan, &out, &mut pixels, height));

    if !split {
        out.decode(src.bytes(), &mut pixels, height)?;
    }
    let (channels, data) = if channels == 4 {
        // libjpeg's CMYK is stored inverted (255 = no ink), so R = C·K/255.
        let rgb = pixels
            .chunks_exact(4)
            .flat_map(|p| {
                let k = u32::from(p[3]);
                let f = |c: u8| ((u32::from(c) * k + 127) / 255) as u8;
                [f(p[0]), f(p[1]), f(p[2])]
            })
            .collect();
        (3, rgb)
    } else {
        (channels, pixels)
    };
    Ok(Decoded {
        raster: Raster {
            width,
            height,
            channels,
            data,
        },
        orientation,
    })
}

/// Output settings shared by the whole-file and the split decode.
struct Out {
    factor: turbojpeg::ScalingFactor,
    format: turbojpeg::PixelFormat,
    width: usize,
    channels: usize,
}

impl Out {
    /// Decodes `jpeg` into `pixels`, which must be exactly its scaled size:
    /// `self.width × height`.
    fn decode(&self, jpeg: &[u8], pixels: &mut [u8], height: usize) -> Result<(), SelfieError> {
        self.decode_raw(jpeg, pixels, height).map_err(map_tj)
    }

    /// [`Out::decode`] with libjpeg-turbo's own error.
    fn decode_raw(
        &self,
        jpeg: &[u8],
        pixels: &mut [u8],
        height: usize,
    ) -> Result<(), turbojpeg::Error> {
        let mut dec = turbojpeg::Decompressor::new()?;
        dec.set_scan_limit(MAX_SCANS)?;
        dec.set_scaling_factor(self.factor)?;
        // Chroma is upsampled by pixel replication instead of the triangle filter: the
        // picture is area-downscaled next, which makes the difference vanish (and the
        // split decode's seam exact).
        dec.set_fast_upsample(true)?;
        let scaled = dec.read_header(jpeg)?.scaled(self.factor);
        if (scaled.width, scaled.height) != (self.width, height) {
            return Err(turbojpeg::Error::TurboJpegError(
                "JPEG part of an unexpected size".into(),
            ));
        }
        dec.decompress(
            jpeg,
            turbojpeg::Image {
                pixels,
                width: self.width,
                pitch: self.width * self.channels,
                height,
                format: self.format,
            },
        )
    }
}

/// The split's first choice, as a fraction of the height. The top part is decoded
/// from the start while the other thread skims down to it and decodes the rest, so the
/// top is the larger part: the skim costs about half as much per row as the decode
/// (measured: see `docs/notes/session5-selfie.md`). At 0.6 the other thread took about
/// 18 % longer than the head (CPU time per thread, `perf record -e cpu-clock`, 12 MP
/// sample; session 7): the head's thread then waited for it. The balance, head rows ×
/// decode = head rows × skim + the rest × decode, is at about 2/3: at 0.66 the other
/// thread still took ~8 % longer in all of 6 runs (its page faults: the bottom part is
/// a copy), at 0.68 the head took longer in 4 of 6.
const TOP_FRACTION: f64 = 0.67;

/// Is there a second core for the two-thread steps? Asked once per process (std reads
/// the cgroup files on every call).
pub(crate) fn parallel() -> bool {
    static TWO: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TWO.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
}

/// [`decode_parts`] with the head made from `src` as it allows: in place (the height
/// restored afterwards, whatever the outcome) or from a copy.
fn decode_split(
    src: &mut Source<'_>,
    plan: &split::Plan,
    out: &Out,
    pixels: &mut [u8],
    height: usize,
) -> bool {
    match src {
        Source::Shared(bytes) => plan
            .head(bytes)
            .is_some_and(|head| decode_parts(&head, plan, out, pixels, height).is_ok()),
        Source::Scratch(buf) => {
            if plan.cut_head(buf).is_none() {
                return false;
            }
            let ok = buf
                .get(..plan.end())
                .is_some_and(|head| decode_parts(head, plan, out, pixels, height).is_ok());
            // `cut_head` wrote the same two bytes: restoring them cannot fail.
            ok & plan.restore(buf).is_some()
        }
    }
}

/// Decodes a split JPEG on two threads into `pixels` (`height` scaled rows in all):
/// this one decodes the head (`head`: the whole file with the frame height cut,
/// [`split::Plan::head`]), the other skims down to the plan's first row and decodes the
/// middle and the bottom (made from `head` too: they carry heights of their own).
fn decode_parts(
    head: &[u8],
    plan: &split::Plan,
    out: &Out,
    pixels: &mut [u8],
    height: usize,
) -> Result<(), SelfieError> {
    let failed = || SelfieError::Corrupt("JPEG split failed".into());
    let head_rows = out.factor.scale(plan.head_rows());
    if head_rows >= height {
        return Err(failed());
    }
    let row_bytes = out.width * out.channels;
    let (top, rest) = pixels.split_at_mut(head_rows * row_bytes);
    std::thread::scope(|s| {
        let worker = s.spawn(|| -> Result<(), SelfieError> {
            let parts = plan.bottom(head).ok_or_else(failed)?;
            let middle_rows = out.factor.scale(parts.top_rows) - head_rows;
            let (middle, bottom) = rest
                .split_at_mut_checked(middle_rows * row_bytes)
                .ok_or_else(failed)?;
            if middle_rows > 0 {
                out.decode(&parts.middle, middle, middle_rows)?;
            }
            out.decode(&parts.jpeg, bottom, height - head_rows - middle_rows)
        });
        // The head stops at its frame height; libjpeg-turbo then skips the rest of the
        // data up to EOI, which it reports as extraneous bytes: that warning is
        // expected. libjpeg reports only the first warning of a decode (jerror.c
        // `emit_message`), and the data holds no marker before EOI (`split::plan`), so
        // that message means the head's rows were read without any other warning.
        let head = match out.decode_raw(head, top, head_rows) {
            Err(turbojpeg::Error::TurboJpegError(m)) if split::is_skipped_tail(&m) => Ok(()),
            other => other.map_err(map_tj),
        };
        let rest = worker.join().unwrap_or_else(|_| Err(failed()));
        head.and(rest)
    })
}

fn map_image(e: image::ImageError, w: u32, h: u32) -> SelfieError {
    match e {
        image::ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            SelfieError::Truncated
        }
        image::ImageError::Limits(_) => SelfieError::TooManyPixels { w, h },
        image::ImageError::Unsupported(_) => SelfieError::UnsupportedFormat,
        other => SelfieError::Corrupt(format!("PNG: {other}")),
    }
}

/// Decodes a PNG at full size (PNG has no cheap downscaling). Transparency is
/// composited over white.
pub(crate) fn png(bytes: &[u8], w: u32, h: u32) -> Result<Decoded, SelfieError> {
    let map = |e| map_image(e, w, h);
    let mut dec = image::codecs::png::PngDecoder::new(Cursor::new(bytes)).map_err(map)?;
    let orientation = dec
        .exif_metadata()
        .ok()
        .flatten()
        .map(|raw| orientation_from_exif(&raw))
        .unwrap_or(1);
    let img = image::DynamicImage::from_decoder(dec).map_err(map)?;
    let (width, height) = (img.width() as usize, img.height() as usize);
    let (channels, data) = match img {
        image::DynamicImage::ImageLuma8(g) => (1, g.into_raw()),
        img if img.color().has_alpha() => {
            let rgba = img.into_rgba8();
            let data = rgba
                .as_raw()
                .chunks_exact(4)
                .flat_map(|p| {
                    let a = u32::from(p[3]);
                    let f = |c: u8| ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
                    [f(p[0]), f(p[1]), f(p[2])]
                })
                .collect();
            (3, data)
        }
        img => (3, img.into_rgb8().into_raw()),
    };
    Ok(Decoded {
        raster: Raster {
            width,
            height,
            channels,
            data,
        },
        orientation,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The data end the header walk finds (the two-thread decode's input).
    fn end_of(jpeg: &[u8]) -> Option<usize> {
        crate::header::walk_jpeg(jpeg, u64::MAX)
            .ok()
            .and_then(|i| i.single_scan_end)
    }

    fn sample(w: u16, h: u16) -> Vec<u8> {
        let rgb: Vec<u8> = (0..usize::from(w) * usize::from(h) * 3)
            .map(|i| ((i / 3) % 251 + i % 3 * 40) as u8)
            .collect();
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 90)
            .encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out
    }

    /// libjpeg-turbo itself, without our EOI walk in front: data that stops early
    /// is an error, never a picture padded with grey.
    #[test]
    fn libjpeg_turbo_refuses_data_that_stops_early() {
        let bytes = sample(800, 600);
        let full = jpeg(Source::Shared(&bytes), end_of(&bytes), 1, 60, 80).unwrap();
        assert_eq!((full.raster.width, full.raster.height), (200, 150));
        let n = bytes.len();
        for cut in [n / 4, n / 2, n - 10, n - 2] {
            match jpeg(Source::Shared(&bytes[..cut]), None, 1, 60, 80) {
                Err(e) => assert_eq!(e, SelfieError::Truncated, "cut at {cut} of {n}"),
                Ok(_) => panic!("libjpeg-turbo accepted a cut at {cut} of {n}"),
            }
        }
    }

    /// Damaged data through the two-thread decode: it never accepts what the
    /// one-thread decode refuses, and never gives other pixels.
    #[test]
    fn the_split_decode_agrees_with_the_whole_decode_on_damaged_data() {
        let bytes = sample(640, 1200);
        let header = turbojpeg::read_header(&bytes).unwrap();
        let factor = turbojpeg::ScalingFactor::new(3, 8);
        let (width, height) = (factor.scale(header.width), factor.scale(header.height));
        let out = Out {
            factor,
            format: turbojpeg::PixelFormat::RGB,
            width,
            channels: 3,
        };
        let mut seed = 0x2545_F491u32;
        let (mut split_ok, mut refused) = (0, 0);
        for i in 0..200 {
            let mut m = bytes.clone();
            if i > 0 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let at = 700 + (seed as usize >> 8) % (bytes.len() - 702);
                m[at] ^= 1 << (seed % 8);
            }
            let Some(plan) = split::plan(&m, TOP_FRACTION, split::MAX_TRIES) else {
                continue;
            };
            let mut parts = vec![0u8; width * height * 3];
            let mut whole = vec![0u8; width * height * 3];
            let whole_ok = out.decode(&m, &mut whole, height).is_ok();
            let head = plan.head(&m).unwrap();
            if decode_parts(&head, &plan, &out, &mut parts, height).is_ok() {
                split_ok += 1;
                assert!(
                    whole_ok,
                    "split accepted flip {i}, the whole decode did not"
                );
                assert!(parts == whole, "flip {i}");
            } else {
                refused += 1;
            }
        }
        assert!(split_ok > 10 && refused > 0, "{split_ok} {refused}");
    }

    /// The in-place head (the caller's buffer) gives the same pixels as the copied one
    /// and leaves the buffer as it was.
    #[test]
    fn the_in_place_head_decodes_like_the_copy_and_restores_the_file() {
        let bytes = sample(640, 1200);
        assert!(split::plan(&bytes, TOP_FRACTION, split::MAX_TRIES).is_some());
        // The walk's data end is the one the split plans with.
        let end = end_of(&bytes).unwrap();
        assert!(split::plan_to(&bytes, end, TOP_FRACTION, split::MAX_TRIES).is_some());
        let shared = jpeg(Source::Shared(&bytes), end_of(&bytes), 1, 60, 80).unwrap();
        let mut buf = bytes.clone();
        let end = end_of(&buf);
        let scratch = jpeg(Source::Scratch(&mut buf), end, 1, 60, 80).unwrap();
        assert_eq!(buf, bytes);
        assert_eq!(
            (scratch.raster.width, scratch.raster.height),
            (shared.raster.width, shared.raster.height)
        );
        assert!(scratch.raster.data == shared.raster.data);
        // A damaged file: the same verdict both ways, and the buffer restored.
        let mut bad = bytes.clone();
        let at = bad.len() * 3 / 4;
        bad[at] ^= 0x10;
        let mut buf = bad.clone();
        let end = end_of(&buf);
        let scratch = jpeg(Source::Scratch(&mut buf), end, 1, 60, 80).map(|d| d.raster.data);
        assert_eq!(buf, bad);
        let shared = jpeg(Source::Shared(&bad), end_of(&bad), 1, 60, 80).map(|d| d.raster.data);
        assert!(scratch == shared);
    }

    #[test]
    fn picks_the_smallest_dct_scale_that_covers_the_output() {
        let jpeg = sample(800, 600);
        // 600×800 needs all of 800×600's 600 rows: no scaling.
        let d = super::jpeg(Source::Shared(&jpeg), end_of(&jpeg), 1, 600, 800).unwrap();
        assert_eq!((d.raster.width, d.raster.height), (800, 600));
        // 300×400 needs 400 rows: 6/8 gives 600×450.
        let d = super::jpeg(Source::Shared(&jpeg), end_of(&jpeg), 1, 300, 400).unwrap();
        assert_eq!((d.raster.width, d.raster.height), (600, 450));
        assert_eq!(d.raster.data.len(), 600 * 450 * 3);
    }
}
