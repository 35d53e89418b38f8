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

/// Decodes a JPEG with libjpeg-turbo at the smallest DCT scale M/8 (M = 1…8) whose
/// result is still at least `out_w × out_h` once the EXIF orientation is applied,
/// so the 3:4 crop is downscaled (never upscaled) to the output size. The scaling
/// happens inside the inverse DCT, so a 12 MP photo is never made at full size.
///
/// `exif` is the TIFF payload of the APP1 segment found by the header walk.
pub(crate) fn jpeg(
    bytes: &[u8],
    exif: Option<&[u8]>,
    out_w: usize,
    out_h: usize,
) -> Result<Decoded, SelfieError> {
    let orientation = exif.map(orientation_from_exif).unwrap_or(1);
    let mut dec = turbojpeg::Decompressor::new().map_err(map_tj)?;
    let header = dec.read_header(bytes).map_err(map_tj)?;
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
    let two_threads = channels != 4
        && !header.is_lossless
        && !header.is_progressive
        && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    // Split in two and decoded on two threads when it can be (`split.rs`); on any
    // failure there the whole file is decoded again on one thread, which gives
    // libjpeg-turbo's own verdict.
    let split = two_threads
        && split::split(bytes, 0.5)
            .is_some_and(|parts| decode_parts(&parts, &out, &mut pixels, height).is_ok());

    if !split {
        out.decode(bytes, &mut pixels, height)?;
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
        let mut dec = turbojpeg::Decompressor::new().map_err(map_tj)?;
        dec.set_scan_limit(MAX_SCANS).map_err(map_tj)?;
        dec.set_scaling_factor(self.factor).map_err(map_tj)?;
        // Chroma is upsampled by pixel replication instead of the triangle filter: the
        // picture is area-downscaled next, which makes the difference vanish (and the
        // split decode's seam exact).
        dec.set_fast_upsample(true).map_err(map_tj)?;
        let scaled = dec.read_header(jpeg).map_err(map_tj)?.scaled(self.factor);
        if (scaled.width, scaled.height) != (self.width, height) {
            return Err(SelfieError::Corrupt(
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
        .map_err(map_tj)
    }
}

/// Decodes the two parts of a split JPEG at the same time, each into its rows of
/// `pixels` (`height` scaled rows in all).
fn decode_parts(
    parts: &split::Parts,
    out: &Out,
    pixels: &mut [u8],
    height: usize,
) -> Result<(), SelfieError> {
    let top_rows = out.factor.scale(parts.top_rows);
    if top_rows >= height {
        return Err(SelfieError::Corrupt(
            "JPEG split outside the picture".into(),
        ));
    }
    let (top, bottom) = pixels.split_at_mut(top_rows * out.width * out.channels);
    std::thread::scope(|s| {
        let worker = s.spawn(|| out.decode(&parts.bottom, bottom, height - top_rows));
        let first = out.decode(&parts.top, top, top_rows);
        let second = worker
            .join()
            .unwrap_or_else(|_| Err(SelfieError::Corrupt("JPEG decode thread failed".into())));
        first.and(second)
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
        let full = jpeg(&bytes, None, 60, 80).unwrap();
        assert_eq!((full.raster.width, full.raster.height), (200, 150));
        let n = bytes.len();
        for cut in [n / 4, n / 2, n - 10, n - 2] {
            match jpeg(&bytes[..cut], None, 60, 80) {
                Err(e) => assert_eq!(e, SelfieError::Truncated, "cut at {cut} of {n}"),
                Ok(_) => panic!("libjpeg-turbo accepted a cut at {cut} of {n}"),
            }
        }
    }

    #[test]
    fn picks_the_smallest_dct_scale_that_covers_the_output() {
        let jpeg = sample(800, 600);
        // 600×800 needs all of 800×600's 600 rows: no scaling.
        let d = super::jpeg(&jpeg, None, 600, 800).unwrap();
        assert_eq!((d.raster.width, d.raster.height), (800, 600));
        // 300×400 needs 400 rows: 6/8 gives 600×450.
        let d = super::jpeg(&jpeg, None, 300, 400).unwrap();
        assert_eq!((d.raster.width, d.raster.height), (600, 450));
        assert_eq!(d.raster.data.len(), 600 * 450 * 3);
    }
}
