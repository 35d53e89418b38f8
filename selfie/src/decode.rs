//! Pixel decoding: JPEG through `jpeg-decoder` with DCT-domain downscaling, PNG
//! through the `image` crate. Both also return the EXIF orientation.

use std::io::Cursor;

use image::ImageDecoder;

use super::resample::{swaps_axes, Raster};
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

fn map_jpeg(e: jpeg_decoder::Error) -> SelfieError {
    match e {
        jpeg_decoder::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            SelfieError::Truncated
        }
        jpeg_decoder::Error::Unsupported(f) => {
            SelfieError::Corrupt(format!("unsupported JPEG feature: {f:?}"))
        }
        other => SelfieError::Corrupt(format!("JPEG: {other}")),
    }
}

/// Output side of the DCT scaler for a factor of `k`/8 (same rounding as
/// jpeg-decoder).
fn scaled(len: u16, k: u32) -> u16 {
    // len ≥ 1 (checked by the header walk), so this fits in u16.
    u16::try_from((u32::from(len) * k - 1) / 8 + 1).unwrap_or(len)
}

/// Decodes a JPEG at the smallest DCT scale (1/8, 1/4, 1/2 or 1) whose result is
/// still at least `out_w × out_h` once the EXIF orientation is applied, so the
/// 3:4 crop can be downscaled (never upscaled) to the output size.
pub(crate) fn jpeg(bytes: &[u8], out_w: usize, out_h: usize) -> Result<Decoded, SelfieError> {
    let mut dec = jpeg_decoder::Decoder::new(bytes);
    dec.read_info().map_err(map_jpeg)?;
    let orientation = dec.exif_data().map(orientation_from_exif).unwrap_or(1);
    let info = dec
        .info()
        .ok_or_else(|| SelfieError::Corrupt("JPEG without a frame".into()))?;
    let (w, h) = (info.width, info.height);
    // The needed size in stored orientation.
    let (tw, th) = if swaps_axes(orientation) {
        (out_h, out_w)
    } else {
        (out_w, out_h)
    };
    let k = [1u32, 2, 4]
        .into_iter()
        .find(|&k| usize::from(scaled(w, k)) >= tw && usize::from(scaled(h, k)) >= th)
        .unwrap_or(8);
    let (sw, sh) = dec.scale(scaled(w, k), scaled(h, k)).map_err(map_jpeg)?;
    let pixels = dec.decode().map_err(map_jpeg)?;
    let info = dec
        .info()
        .ok_or_else(|| SelfieError::Corrupt("JPEG without a frame".into()))?;
    let (sw, sh) = (usize::from(sw), usize::from(sh));
    let n = sw * sh;
    let (channels, data) = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => (1, pixels),
        jpeg_decoder::PixelFormat::L16 => (1, pixels.chunks_exact(2).map(|p| p[0]).collect()),
        jpeg_decoder::PixelFormat::RGB24 => (3, pixels),
        jpeg_decoder::PixelFormat::CMYK32 => (
            3,
            pixels
                .chunks_exact(4)
                .flat_map(|p| {
                    let k = 255 - u32::from(p[3]);
                    let f = |c: u8| ((255 - u32::from(c)) * k / 255) as u8;
                    [f(p[0]), f(p[1]), f(p[2])]
                })
                .collect(),
        ),
    };
    if data.len() != n * channels {
        return Err(SelfieError::Corrupt(
            "JPEG decoded to the wrong size".into(),
        ));
    }
    Ok(Decoded {
        raster: Raster {
            width: sw,
            height: sh,
            channels,
            data,
        },
        orientation,
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
