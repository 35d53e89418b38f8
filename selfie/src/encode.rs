//! Metadata-free JPEG encoding under a byte budget.

use super::SelfieError;

/// Qualities tried in order until the picture fits.
const QUALITIES: [u8; 12] = [85, 80, 75, 70, 65, 60, 55, 50, 40, 30, 20, 10];

fn map(e: turbojpeg::Error) -> SelfieError {
    SelfieError::Encode(e.to_string())
}

/// Encodes RGB pixels as a baseline 4:2:0 JPEG with optimised Huffman tables no
/// larger than `max_bytes`, starting at quality 85 and stepping down. libjpeg-turbo's
/// encoder (SIMD colour conversion and DCT; about a tenth of the time of the pure-Rust
/// one this used before). The output carries no metadata: no EXIF, no comment, and the
/// encoder's JFIF APP0 segment is removed.
pub(crate) fn encode_jpeg(
    rgb: &[u8],
    width: u16,
    height: u16,
    max_bytes: usize,
) -> Result<(Vec<u8>, u8), SelfieError> {
    let (w, h) = (usize::from(width), usize::from(height));
    if rgb.len() != w * h * 3 {
        return Err(SelfieError::Encode("pixel buffer of the wrong size".into()));
    }
    let mut c = turbojpeg::Compressor::new().map_err(map)?;
    c.set_subsamp(turbojpeg::Subsamp::Sub2x2).map_err(map)?;
    c.set_optimize(true).map_err(map)?;
    let mut last_len = 0;
    for q in QUALITIES {
        c.set_quality(i32::from(q)).map_err(map)?;
        let out = c
            .compress_to_vec(turbojpeg::Image {
                pixels: rgb,
                width: w,
                pitch: w * 3,
                height: h,
                format: turbojpeg::PixelFormat::RGB,
            })
            .map_err(map)?;
        let out = strip_app_segments(out);
        if out.len() <= max_bytes {
            return Ok((out, q));
        }
        last_len = out.len();
    }
    Err(SelfieError::Encode(format!(
        "picture is {last_len} bytes even at the lowest quality"
    )))
}

/// Removes APPn and COM segments between SOI and the first other marker.
fn strip_app_segments(jpeg: Vec<u8>) -> Vec<u8> {
    let mut pos = 2;
    let mut cut = Vec::new();
    while pos + 4 <= jpeg.len() && jpeg[pos] == 0xFF {
        let marker = jpeg[pos + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
        if !((0xE0..=0xEF).contains(&marker) || marker == 0xFE) {
            break;
        }
        cut.push(pos..pos + 2 + len);
        pos += 2 + len;
    }
    if cut.is_empty() || pos > jpeg.len() {
        return jpeg;
    }
    let mut out = Vec::with_capacity(jpeg.len());
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&jpeg[pos..]);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn output_has_no_app_segments_and_decodes() {
        let (w, h) = (64u16, 48u16);
        let rgb: Vec<u8> = (0..usize::from(w) * usize::from(h) * 3)
            .map(|i| (i % 256) as u8)
            .collect();
        let (jpeg, q) = encode_jpeg(&rgb, w, h, 150_000).unwrap();
        assert_eq!(q, 85);
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        assert!(!(0xE0..=0xEF).contains(&jpeg[3]) && jpeg[3] != 0xFE);
        let mut d = jpeg_decoder::Decoder::new(&jpeg[..]);
        let px = d.decode().unwrap();
        assert_eq!(px.len(), rgb.len());
    }

    #[test]
    fn steps_quality_down_to_fit() {
        let (w, h) = (64u16, 48u16);
        let mut x = 12345u32;
        let rgb: Vec<u8> = (0..usize::from(w) * usize::from(h) * 3)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        let (full, _) = encode_jpeg(&rgb, w, h, usize::MAX).unwrap();
        let (small, q) = encode_jpeg(&rgb, w, h, full.len() * 2 / 3).unwrap();
        assert!(q < 85 && small.len() <= full.len() * 2 / 3);
        assert!(matches!(
            encode_jpeg(&rgb, w, h, 100),
            Err(SelfieError::Encode(_))
        ));
    }
}
