//! Container checks done before any pixel is decoded: format sniffing, header
//! dimensions (decompression-bomb guard) and a structural walk to the end marker
//! (truncation guard).

use super::SelfieError;

/// The two formats we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Jpeg,
    Png,
}

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// Recognises JPEG and PNG by their magic bytes.
pub(crate) fn sniff(bytes: &[u8]) -> Result<Format, SelfieError> {
    if bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8 {
        return Ok(Format::Jpeg);
    }
    if bytes.len() >= PNG_SIGNATURE.len() && bytes[..PNG_SIGNATURE.len()] == PNG_SIGNATURE {
        return Ok(Format::Png);
    }
    // A prefix of a PNG signature is a truncated PNG, not an unknown format.
    if !bytes.is_empty() && PNG_SIGNATURE.starts_with(bytes) {
        return Err(SelfieError::Truncated);
    }
    Err(SelfieError::UnsupportedFormat)
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn check_pixels(w: u32, h: u32, max_pixels: u64) -> Result<(), SelfieError> {
    if w == 0 || h == 0 {
        return Err(SelfieError::Corrupt("zero image dimension".into()));
    }
    if u64::from(w) * u64::from(h) > max_pixels {
        return Err(SelfieError::TooManyPixels { w, h });
    }
    Ok(())
}

/// Is `m` a start-of-frame marker (SOF0–SOF15 minus DHT, JPG and DAC)?
fn is_sof(m: u8) -> bool {
    (0xC0..=0xCF).contains(&m) && m != 0xC4 && m != 0xC8 && m != 0xCC
}

/// What the JPEG walk found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JpegInfo<'a> {
    pub width: u32,
    pub height: u32,
    /// The payload of the first APP1 `Exif\0\0` segment (the TIFF data), if any.
    pub exif: Option<&'a [u8]>,
    /// Where the entropy-coded data of a file with one scan ends (the offset of the EOI
    /// marker's 0xFF), when it holds no marker but stuffed bytes: the data the
    /// two-thread decode can split (`split::plan_to`), found without a second scan.
    pub single_scan_end: Option<usize>,
}

/// Walks a JPEG's marker segments from SOI to EOI without decoding.
///
/// Returns the frame dimensions (from the SOF header) and the EXIF segment. Fails with
/// `TooManyPixels` as soon as the SOF header is read, and with `Truncated` when
/// the data ends before the EOI marker. Bytes after EOI are ignored (some cameras
/// append trailers).
pub(crate) fn walk_jpeg(bytes: &[u8], max_pixels: u64) -> Result<JpegInfo<'_>, SelfieError> {
    let n = bytes.len();
    if n < 2 || bytes[0] != 0xFF || bytes[1] != 0xD8 {
        return Err(SelfieError::UnsupportedFormat);
    }
    let mut pos = 2usize;
    let mut dims: Option<(u32, u32)> = None;
    let mut exif: Option<&[u8]> = None;
    // (scans so far, the end of the first one's data if it was clean)
    let (mut scans, mut first_end) = (0u32, None);
    loop {
        match bytes.get(pos) {
            None => return Err(SelfieError::Truncated),
            Some(0xFF) => {}
            Some(_) => return Err(SelfieError::Corrupt("expected a JPEG marker".into())),
        }
        // Skip the 0xFF and any fill bytes.
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos) else {
            return Err(SelfieError::Truncated);
        };
        pos += 1;
        match marker {
            0xD9 => {
                // Only when this EOI follows the one scan's data directly.
                if scans != 1 || first_end.is_some_and(|e| e + 2 != pos) {
                    first_end = None;
                }
                break;
            }
            0xD0..=0xD7 | 0x01 => continue,
            0xD8 | 0x00 => return Err(SelfieError::Corrupt("misplaced JPEG marker".into())),
            _ => {}
        }
        let len = usize::from(be16(bytes, pos).ok_or(SelfieError::Truncated)?);
        if len < 2 {
            return Err(SelfieError::Corrupt("bad JPEG segment length".into()));
        }
        let end = pos + len;
        if end > n {
            return Err(SelfieError::Truncated);
        }
        if is_sof(marker) {
            if len < 8 {
                return Err(SelfieError::Corrupt("short JPEG frame header".into()));
            }
            if dims.is_some() {
                return Err(SelfieError::Corrupt("more than one JPEG frame".into()));
            }
            let h = u32::from(be16(bytes, pos + 3).ok_or(SelfieError::Truncated)?);
            let w = u32::from(be16(bytes, pos + 5).ok_or(SelfieError::Truncated)?);
            check_pixels(w, h, max_pixels)?;
            dims = Some((w, h));
        }
        if marker == 0xE1 && exif.is_none() {
            exif = bytes[pos + 2..end].strip_prefix(b"Exif\0\0");
        }
        pos = end;
        if marker == 0xDA {
            if dims.is_none() {
                return Err(SelfieError::Corrupt("JPEG scan before frame".into()));
            }
            let (end, clean) = skip_entropy_data(bytes, pos)?;
            scans += 1;
            if scans == 1 && clean {
                first_end = Some(end);
            }
            pos = end;
        }
    }
    let (width, height) =
        dims.ok_or_else(|| SelfieError::Corrupt("JPEG without a frame".into()))?;
    Ok(JpegInfo {
        width,
        height,
        exif,
        single_scan_end: first_end,
    })
}

/// Skips entropy-coded data; returns the position of the 0xFF that starts the next
/// marker (restart markers and stuffed bytes are part of the data), and whether the data
/// held nothing but stuffed bytes (no restart marker, no fill byte).
fn skip_entropy_data(bytes: &[u8], mut pos: usize) -> Result<(usize, bool), SelfieError> {
    let mut clean = true;
    loop {
        let rest = bytes.get(pos..).ok_or(SelfieError::Truncated)?;
        let i = pos + memchr::memchr(0xFF, rest).ok_or(SelfieError::Truncated)?;
        match bytes.get(i + 1) {
            None => return Err(SelfieError::Truncated),
            Some(0x00) => pos = i + 2,
            Some(0xD0..=0xD7) => {
                clean = false;
                pos = i + 2;
            }
            Some(0xFF) => {
                clean = false;
                pos = i + 1;
            }
            Some(_) => return Ok((i, clean)),
        }
    }
}

/// Walks a PNG's chunks from the signature to IEND without decoding.
///
/// Returns the IHDR dimensions; `TooManyPixels` as soon as IHDR is read;
/// `Truncated` when the data ends before the IEND chunk.
pub(crate) fn walk_png(bytes: &[u8], max_pixels: u64) -> Result<(u32, u32), SelfieError> {
    let n = bytes.len();
    let mut pos = PNG_SIGNATURE.len();
    // IHDR must be first: length 13.
    let ihdr_len = be32(bytes, pos).ok_or(SelfieError::Truncated)?;
    let ihdr_type = bytes.get(pos + 4..pos + 8).ok_or(SelfieError::Truncated)?;
    if ihdr_len != 13 || ihdr_type != b"IHDR" {
        return Err(SelfieError::Corrupt("PNG does not start with IHDR".into()));
    }
    let w = be32(bytes, pos + 8).ok_or(SelfieError::Truncated)?;
    let h = be32(bytes, pos + 12).ok_or(SelfieError::Truncated)?;
    check_pixels(w, h, max_pixels)?;
    loop {
        let len = be32(bytes, pos).ok_or(SelfieError::Truncated)?;
        if len > 0x7FFF_FFFF {
            return Err(SelfieError::Corrupt("bad PNG chunk length".into()));
        }
        let kind = bytes.get(pos + 4..pos + 8).ok_or(SelfieError::Truncated)?;
        let is_end = kind == b"IEND";
        // length + type + data + CRC
        let end = pos
            .checked_add(12)
            .and_then(|p| p.checked_add(len as usize))
            .ok_or(SelfieError::Truncated)?;
        if end > n {
            return Err(SelfieError::Truncated);
        }
        if is_end {
            return Ok((w, h));
        }
        pos = end;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_formats() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF]).unwrap(), Format::Jpeg);
        assert_eq!(sniff(&PNG_SIGNATURE).unwrap(), Format::Png);
        assert_eq!(sniff(b"GIF89a"), Err(SelfieError::UnsupportedFormat));
        assert_eq!(sniff(b""), Err(SelfieError::UnsupportedFormat));
        assert_eq!(sniff(&PNG_SIGNATURE[..4]), Err(SelfieError::Truncated));
    }

    #[test]
    fn jpeg_walk_finds_frame_and_needs_eoi() {
        // SOI, SOF0 (8x16, 1 component), SOS, 2 data bytes with a stuffed FF and RST, EOI.
        let mut j = vec![0xFF, 0xD8];
        j.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8, 0, 16, 0, 8, 1, 1, 0x11, 0]);
        j.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0]);
        j.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        let mut full = j.clone();
        full.extend_from_slice(&[0xFF, 0xD9, 1, 2, 3]);
        let info = walk_jpeg(&full, 1000).unwrap();
        assert_eq!((info.width, info.height, info.exif), (8, 16, None));
        // A restart marker in the data: not one `split` takes.
        assert_eq!(info.single_scan_end, None);
        assert_eq!(walk_jpeg(&j, 1000), Err(SelfieError::Truncated));
        for cut in 2..full.len() - 4 {
            assert!(walk_jpeg(&full[..cut], 1000).is_err(), "cut {cut}");
        }
        assert!(matches!(
            walk_jpeg(&full, 100),
            Err(SelfieError::TooManyPixels { w: 8, h: 16 })
        ));
    }
}
