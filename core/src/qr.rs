//! Desk QR images decoded in Rust (rqrr), for the desktop "choose an image of the QR"
//! path. Phones scan with the camera plugin and hand the text over directly.
//!
//! The same size limits as the selfie apply: a file over 10 MB or an image over 40
//! megapixels is refused before it is decoded into memory.

use image::ImageReader;
use std::io::Cursor;

/// Largest accepted file.
pub const MAX_QR_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Largest accepted image, in pixels.
pub const MAX_QR_PIXELS: u64 = 40_000_000;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum QrError {
    #[error("the image file is empty")]
    Empty,
    #[error("the image file is too large ({0} bytes)")]
    FileTooLarge(usize),
    #[error("the image is too large ({0} pixels)")]
    TooManyPixels(u64),
    #[error("the file is not a PNG or JPEG image")]
    NotAnImage,
    #[error("no QR code found in the image")]
    NoQr,
    #[error("the QR code could not be read")]
    Unreadable,
}

/// Finds the first readable QR code in a PNG or JPEG image and returns its text.
pub fn decode_qr_image(bytes: &[u8]) -> Result<String, QrError> {
    if bytes.is_empty() {
        return Err(QrError::Empty);
    }
    if bytes.len() > MAX_QR_FILE_BYTES {
        return Err(QrError::FileTooLarge(bytes.len()));
    }
    let (w, h, luma) = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        jpeg_luma(bytes)?
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        png_luma(bytes)?
    } else {
        return Err(QrError::NotAnImage);
    };
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| luma[y * w + x]);
    let grids = prepared.detect_grids();
    if grids.is_empty() {
        return Err(QrError::NoQr);
    }
    for grid in grids {
        if let Ok((_, text)) = grid.decode() {
            return Ok(text);
        }
    }
    Err(QrError::Unreadable)
}

fn check_pixels(w: u64, h: u64) -> Result<(), QrError> {
    let pixels = w * h;
    if pixels > MAX_QR_PIXELS {
        return Err(QrError::TooManyPixels(pixels));
    }
    Ok(())
}

/// JPEG through jpeg-decoder (the selfie's decoder): the header first, so a huge image
/// is refused before it is allocated; then grey levels (BT.601 luma).
fn jpeg_luma(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), QrError> {
    let mut dec = jpeg_decoder::Decoder::new(bytes);
    dec.read_info().map_err(|_| QrError::NotAnImage)?;
    let info = dec.info().ok_or(QrError::NotAnImage)?;
    check_pixels(u64::from(info.width), u64::from(info.height))?;
    let pixels = dec.decode().map_err(|_| QrError::NotAnImage)?;
    let (w, h) = (usize::from(info.width), usize::from(info.height));
    let luma: Vec<u8> = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => pixels,
        jpeg_decoder::PixelFormat::L16 => pixels.chunks_exact(2).map(|p| p[0]).collect(),
        jpeg_decoder::PixelFormat::RGB24 => pixels
            .chunks_exact(3)
            .map(|p| {
                ((299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2])) / 1000)
                    as u8
            })
            .collect(),
        jpeg_decoder::PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .map(|p| {
                // As the selfie decoder reads CMYK: each of R, G, B is (255 - ink) × (255 - K).
                let k = 255 - u32::from(p[3]);
                let [r, g, b] = [p[0], p[1], p[2]].map(|c| (255 - u32::from(c)) * k / 255);
                ((299 * r + 587 * g + 114 * b) / 1000) as u8
            })
            .collect(),
    };
    if luma.len() != w * h {
        return Err(QrError::NotAnImage);
    }
    Ok((w, h, luma))
}

/// PNG through `image`, with its allocation limit set from the header.
fn png_luma(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), QrError> {
    let reader = ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Png);
    let (w, h) = reader.into_dimensions().map_err(|_| QrError::NotAnImage)?;
    check_pixels(u64::from(w), u64::from(h))?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Png);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(MAX_QR_PIXELS * 4);
    reader.limits(limits);
    let luma = reader.decode().map_err(|_| QrError::NotAnImage)?.to_luma8();
    Ok((
        luma.width() as usize,
        luma.height() as usize,
        luma.into_raw(),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::{ErrorCode, UiError};
    use image::{ImageFormat, Luma};
    use qrcode::QrCode;

    fn qr_png(text: &str) -> Vec<u8> {
        let code = QrCode::new(text.as_bytes()).unwrap();
        let img = code.render::<Luma<u8>>().min_dimensions(300, 300).build();
        let mut out = Vec::new();
        image::DynamicImage::ImageLuma8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn decodes_a_generated_png() {
        let text = "eyJkZXNrIjoiUExHLTAxIiwibm9uY2UiOiJhYmMifQ";
        assert_eq!(decode_qr_image(&qr_png(text)).unwrap(), text);
    }

    #[test]
    fn decodes_a_jpeg_photo_of_the_qr() {
        let code = QrCode::new(b"desk-qr-123").unwrap();
        let img = code.render::<Luma<u8>>().min_dimensions(400, 400).build();
        let mut out = Vec::new();
        image::DynamicImage::ImageLuma8(img)
            .to_rgb8()
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
            .unwrap();
        assert_eq!(decode_qr_image(&out).unwrap(), "desk-qr-123");
    }

    #[test]
    fn too_many_pixels_in_a_jpeg_header_is_refused_before_decoding() {
        let img = image::GrayImage::from_pixel(16, 16, Luma([255]));
        let mut jpeg = Vec::new();
        image::DynamicImage::ImageLuma8(img)
            .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .unwrap();
        // SOF0: FF C0, length (2), precision (1), height (2), width (2).
        let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        jpeg[sof + 5..sof + 7].copy_from_slice(&5_000u16.to_be_bytes());
        jpeg[sof + 7..sof + 9].copy_from_slice(&10_000u16.to_be_bytes());
        assert_eq!(
            decode_qr_image(&jpeg),
            Err(QrError::TooManyPixels(50_000_000))
        );
        // And a truncated JPEG is not an image.
        let mut cut = jpeg.clone();
        cut.truncate(40);
        cut[sof.min(30)..].fill(0);
        assert!(decode_qr_image(&cut).is_err());
    }

    #[test]
    fn blank_image_has_no_qr() {
        let img = image::GrayImage::from_pixel(200, 200, Luma([255]));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        assert_eq!(decode_qr_image(&out), Err(QrError::NoQr));
        let e: UiError = QrError::NoQr.into();
        assert_eq!(e.code, ErrorCode::QrInvalid);
    }

    #[test]
    fn garbage_and_empty_are_refused() {
        assert_eq!(decode_qr_image(b""), Err(QrError::Empty));
        assert_eq!(
            decode_qr_image(b"not an image at all"),
            Err(QrError::NotAnImage)
        );
        // GIF magic: a real image format we do not accept.
        assert_eq!(
            decode_qr_image(b"GIF89a\x01\x00\x01\x00\x00\x00\x00"),
            Err(QrError::NotAnImage)
        );
    }

    #[test]
    fn oversized_file_is_refused_before_decoding() {
        let big = vec![0u8; MAX_QR_FILE_BYTES + 1];
        assert_eq!(
            decode_qr_image(&big),
            Err(QrError::FileTooLarge(MAX_QR_FILE_BYTES + 1))
        );
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn too_many_pixels_is_refused_from_the_header() {
        // A valid PNG header claiming 10000x5000 (50 MP) with a tiny body.
        let img = image::GrayImage::from_pixel(1, 1, Luma([0]));
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        // IHDR width/height are at bytes 16..24.
        png[16..20].copy_from_slice(&10_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&5_000u32.to_be_bytes());
        // Fix the IHDR chunk's CRC (over type + data, bytes 12..29).
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        let e = decode_qr_image(&png).unwrap_err();
        assert_eq!(e, QrError::TooManyPixels(50_000_000));
        let ui = UiError::from(e);
        assert_eq!(ui.code, ErrorCode::QrInvalid);
        assert_eq!(ui.detail.unwrap()["reason"], "too_large");
    }
}
