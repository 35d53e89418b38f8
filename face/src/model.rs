//! The embedded model.
//!
//! It is the SeetaFace frontal face detection model v1.0 (BSD-2-Clause, see
//! `model/LICENSE`) as the rustface 0.1.7 crate ships it: `model/seeta_fd_frontal_v1.0.bin`,
//! 1,209,904 bytes, SHA-256 `c4619d066ed35e84d9a8e842860b0dff567aba0cbb139881075538761db3ff5d`.
//! To keep the app small it is stored here with each of its 301,501 `f32` weights
//! rounded to IEEE half precision (`f16`, 11 significant bits), stored as it is:
//! `model/seeta_fd_frontal_v1.0.f16` (606,902 bytes; zlib would save only 48 KB of
//! it, and inflating cost more instructions than the rest of the unpacking), made by
//! `cargo run -p ikd-face --example pack_model -- <path to the .bin>` ([`pack_model`]).
//! [`reader`] turns it back into the original layout with `f32` weights while
//! `rustface::read_model` reads it.
//!
//! The layout is walked field by field (it has no length prefix of its own): a count of
//! hierarchies; per hierarchy a count of stages; per stage a classifier kind (0: LAB
//! boosted, 1: SURF MLP) and its body; per hierarchy a list of window sources.

/// The packed model, embedded in the binary.
static PACKED: &[u8] = include_bytes!("../model/seeta_fd_frontal_v1.0.f16");

/// The original model's size, the exact size [`reader`] must produce.
pub const ORIGINAL_BYTES: usize = 1_209_904;

/// Why a model could not be converted. Only reachable with a damaged model file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("model data ends early at byte {0}")]
    Truncated(usize),
    #[error("model has {0} bytes after its last field")]
    Trailing(usize),
    #[error("model field at byte {at} has an impossible value {value}")]
    BadField { at: usize, value: i32 },
    #[error("the detector refused the model")]
    Refused,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Float {
    F32,
    F16,
}

/// Where a [`Walk`] puts what it reads.
enum Sink {
    /// The model converted to the other float width.
    Bytes(Vec<u8>),
    /// Only its layout, for [`Unpacked`]: the runs of ints and of floats, in order.
    Layout(Vec<Run>),
}

/// `n` ints or `n` floats in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    floats: bool,
    n: usize,
}

impl Sink {
    fn note(&mut self, floats: bool, n: usize) {
        if let Sink::Layout(runs) = self {
            match runs.last_mut() {
                Some(last) if last.floats == floats => last.n += n,
                _ => runs.push(Run { floats, n }),
            }
        }
    }
}

/// Copies a model from one float width to the other, or notes its layout, checking
/// its structure.
struct Walk<'a> {
    src: &'a [u8],
    pos: usize,
    from: Float,
    out: Sink,
}

impl Walk<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], ModelError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.src.len());
        let end = end.ok_or(ModelError::Truncated(self.pos))?;
        let bytes = &self.src[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn int(&mut self) -> Result<i32, ModelError> {
        let b = self.take(4)?;
        let v = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        match &mut self.out {
            Sink::Bytes(out) => out.extend_from_slice(&v.to_le_bytes()),
            layout => layout.note(false, 1),
        }
        Ok(v)
    }

    /// A count: an `i32` that must be in `0..=max`.
    fn count(&mut self, max: usize) -> Result<usize, ModelError> {
        let at = self.pos;
        let v = self.int()?;
        usize::try_from(v)
            .ok()
            .filter(|&n| n <= max)
            .ok_or(ModelError::BadField { at, value: v })
    }

    fn float(&mut self) -> Result<(), ModelError> {
        self.floats(1)
    }

    fn floats(&mut self, n: usize) -> Result<(), ModelError> {
        let width = match self.from {
            Float::F32 => 4,
            Float::F16 => 2,
        };
        let bytes = n
            .checked_mul(width)
            .ok_or(ModelError::Truncated(self.pos))?;
        let from = self.from;
        let (src, at) = (self.src, self.pos);
        let len = self.take(bytes)?.len();
        let b = &src[at..at + len];
        match &mut self.out {
            // Any bit pattern is a float: the layout needs no look at them.
            layout @ Sink::Layout(_) => layout.note(true, n),
            Sink::Bytes(out) => match from {
                Float::F32 => out.extend(b.chunks_exact(4).flat_map(|c| {
                    f32_to_f16(f32::from_le_bytes([c[0], c[1], c[2], c[3]])).to_le_bytes()
                })),
                Float::F16 => out.extend(
                    b.chunks_exact(2)
                        .flat_map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])).to_le_bytes()),
                ),
            },
        }
        Ok(())
    }

    /// No count may exceed what the remaining bytes could hold, so a damaged count
    /// fails at once instead of looping.
    fn room(&self) -> usize {
        self.src.len() - self.pos
    }

    fn model(mut self) -> Result<Sink, ModelError> {
        let hierarchies = self.count(self.room())?;
        for _ in 0..hierarchies {
            let stages_lists = self.count(self.room())?;
            for _ in 0..stages_lists {
                let stages = self.count(self.room())?;
                for _ in 0..stages {
                    let at = self.pos;
                    match self.int()? {
                        0 => self.lab_boosted()?,
                        1 => self.surf_mlp()?,
                        value => return Err(ModelError::BadField { at, value }),
                    }
                }
                let at = self.pos;
                let sources = self.int()?;
                if sources > 0 {
                    let n = usize::try_from(sources)
                        .ok()
                        .filter(|&n| n <= self.room())
                        .ok_or(ModelError::BadField { at, value: sources })?;
                    for _ in 0..n {
                        self.int()?;
                    }
                }
            }
        }
        if self.pos != self.src.len() {
            return Err(ModelError::Trailing(self.src.len() - self.pos));
        }
        Ok(self.out)
    }

    fn lab_boosted(&mut self) -> Result<(), ModelError> {
        let base = self.count(self.room())?;
        let bins = self.count(self.room())?;
        for _ in 0..base {
            self.int()?;
            self.int()?;
        }
        self.floats(base)?;
        for _ in 0..base {
            self.floats(bins + 1)?;
        }
        Ok(())
    }

    fn surf_mlp(&mut self) -> Result<(), ModelError> {
        let layers = self.count(self.room())?;
        let features = self.count(self.room())?;
        for _ in 0..features {
            self.int()?;
        }
        self.float()?; // threshold
        let mut input = self.count(self.room())?;
        for _ in 1..layers {
            let output = self.count(self.room())?;
            let at = self.pos;
            let weights = input
                .checked_mul(output)
                .filter(|&n| n <= self.room())
                .ok_or(ModelError::BadField {
                    at,
                    value: i32::try_from(output).unwrap_or(i32::MAX),
                })?;
            self.floats(weights)?;
            self.floats(output)?;
            input = output;
        }
        Ok(())
    }
}

/// Converts a model between float widths.
fn convert(src: &[u8], from: Float, capacity: usize) -> Result<Vec<u8>, ModelError> {
    let walk = Walk {
        src,
        pos: 0,
        from,
        out: Sink::Bytes(Vec::with_capacity(capacity)),
    };
    match walk.model()? {
        Sink::Bytes(out) => Ok(out),
        Sink::Layout(_) => Err(ModelError::Refused),
    }
}

/// Converts an original SeetaFace model (`f32` weights) to the packed layout (`f16`
/// weights). How the embedded model was made.
pub fn pack_model(original: &[u8]) -> Result<Vec<u8>, ModelError> {
    convert(original, Float::F32, original.len() / 2)
}

/// The embedded model in rustface's layout (`f32` weights), as one buffer.
#[cfg(test)]
pub(crate) fn unpack() -> Result<Vec<u8>, ModelError> {
    let out = convert(PACKED, Float::F16, ORIGINAL_BYTES)?;
    if out.len() != ORIGINAL_BYTES {
        return Err(ModelError::Trailing(out.len().abs_diff(ORIGINAL_BYTES)));
    }
    Ok(out)
}

/// The embedded model in rustface's layout (`f32` weights), as a reader that converts
/// it four bytes at a time while rustface reads it: no 1.2 MB copy of the model beside
/// the one rustface builds. Its layout is checked first, field by field.
pub(crate) fn reader() -> Result<Unpacked, ModelError> {
    let walk = Walk {
        src: PACKED,
        pos: 0,
        from: Float::F16,
        out: Sink::Layout(Vec::new()),
    };
    let Sink::Layout(runs) = walk.model()? else {
        return Err(ModelError::Refused);
    };
    let bytes: usize = runs.iter().map(|r| 4 * r.n).sum();
    if bytes != ORIGINAL_BYTES {
        return Err(ModelError::Trailing(bytes.abs_diff(ORIGINAL_BYTES)));
    }
    Ok(Unpacked {
        src: PACKED,
        runs,
        run: 0,
        left: 0,
        floats: false,
        ahead: vec![0; AHEAD],
        len: 0,
        at: 0,
    })
}

/// Bytes of the model [`Unpacked`] converts at a time.
const AHEAD: usize = 4096;

/// See [`reader`].
pub(crate) struct Unpacked {
    /// The packed model from the next value on.
    src: &'static [u8],
    runs: Vec<Run>,
    /// The next run.
    run: usize,
    /// Values left in the current run.
    left: usize,
    floats: bool,
    /// Values converted ahead, in rustface's layout (`len` bytes, `at` of them read):
    /// rustface reads one 4-byte value at a time, and converting a thousand at once
    /// costs a fraction of a call per value (callgrind, session 7: the model's read
    /// 23.6 M instructions one value at a time).
    ahead: Vec<u8>,
    len: usize,
    at: usize,
}

impl Unpacked {
    /// Converts the next values into `ahead`; false at the end.
    fn fill(&mut self) -> bool {
        self.at = 0;
        self.len = 0;
        while self.len < AHEAD {
            while self.left == 0 {
                let Some(r) = self.runs.get(self.run) else {
                    return self.len > 0;
                };
                self.run += 1;
                self.left = r.n;
                self.floats = r.floats;
            }
            let n = self.left.min((AHEAD - self.len) / 4);
            let width = if self.floats { 2 } else { 4 };
            // The layout was checked against the data: it cannot run out.
            let Some((v, rest)) = self.src.split_at_checked(n * width) else {
                return self.len > 0;
            };
            let out = &mut self.ahead[self.len..self.len + 4 * n];
            if self.floats {
                for (o, c) in out.chunks_exact_mut(4).zip(v.chunks_exact(2)) {
                    o.copy_from_slice(&f16_to_f32(u16::from_le_bytes([c[0], c[1]])).to_le_bytes());
                }
            } else {
                out.copy_from_slice(v);
            }
            self.src = rest;
            self.left -= n;
            self.len += 4 * n;
        }
        true
    }
}

impl std::io::Read for Unpacked {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.len && !self.fill() {
            return Ok(0);
        }
        // rustface's reads: one value (`fill` converts whole values, so none is split).
        if let (Ok(value), Some(from)) = (
            <&mut [u8; 4]>::try_from(&mut *out),
            self.ahead.get(self.at..self.at + 4),
        ) {
            value.copy_from_slice(from);
            self.at += 4;
            return Ok(4);
        }
        let k = out.len().min(self.len - self.at);
        let Some(from) = self.ahead.get(self.at..self.at + k) else {
            return Ok(0);
        };
        out[..k].copy_from_slice(from);
        self.at += k;
        Ok(k)
    }

    /// rustface reads every value with `read_exact` (byteorder's `read_i32`/`read_f32`):
    /// a value already converted is copied here, inline in its reader, instead of
    /// through the provided loop's call to `read` (302,476 calls for the model:
    /// callgrind, `ikd selfie` on the 12 MP sample, 15.4 M instructions on the face
    /// thread while the decode runs on both cores).
    #[inline]
    fn read_exact(&mut self, out: &mut [u8]) -> std::io::Result<()> {
        let end = self.at + out.len();
        if let Some(from) = self.ahead.get(self.at..end).filter(|_| end <= self.len) {
            out.copy_from_slice(from);
            self.at = end;
            return Ok(());
        }
        let mut rest = out;
        while !rest.is_empty() {
            match self.read(rest)? {
                0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                n => rest = &mut rest[n..],
            }
        }
        Ok(())
    }
}

/// IEEE 754 binary16 → binary32, exact.
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    match exp {
        0 => {
            // zero or subnormal: man × 2^-24, exact in f32
            let v = man as f32 / 16_777_216.0;
            if sign != 0 {
                -v
            } else {
                v
            }
        }
        0x1f => f32::from_bits(sign | 0x7f80_0000 | (man << 13)),
        _ => f32::from_bits(sign | ((exp + 112) << 23) | (man << 13)),
    }
}

/// IEEE 754 binary32 → binary16, rounding to nearest, ties to even.
pub(crate) fn f32_to_f16(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32;
    let man = b & 0x7f_ffff;
    if exp == 0xff {
        return sign | 0x7c00 | if man != 0 { 0x200 } else { 0 };
    }
    let e = exp - 112; // rebias 127 → 15
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    let (kept, shift) = if e <= 0 {
        if e < -10 {
            return sign;
        }
        // subnormal: value = m × 2^-24, m = mantissa with its implicit 1 >> (14 - e)
        (man | 0x80_0000, (14 - e) as u32)
    } else {
        ((e as u32) << 23 | man, 13)
    };
    let half = 1u32 << (shift - 1);
    let rest = kept & ((1u32 << shift) - 1);
    let mut h = kept >> shift;
    if rest > half || (rest == half && h & 1 == 1) {
        h += 1; // a carry into the exponent is the right rounding (up to infinity)
    }
    sign | h as u16
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn f16_to_f32_matches_half_for_every_value() {
        for bits in 0..=u16::MAX {
            let ours = f16_to_f32(bits);
            let theirs = half::f16::from_bits(bits).to_f32();
            if theirs.is_nan() {
                assert!(ours.is_nan(), "{bits:#06x}");
            } else {
                assert_eq!(ours.to_bits(), theirs.to_bits(), "{bits:#06x}");
            }
        }
    }

    #[test]
    fn f32_to_f16_matches_half() {
        let mut seed = 0x2545_F491u32;
        let check = |x: f32| {
            let theirs = half::f16::from_f32(x);
            if x.is_nan() {
                assert!(half::f16::from_bits(f32_to_f16(x)).is_nan());
            } else {
                assert_eq!(f32_to_f16(x), theirs.to_bits(), "{x:e}");
            }
        };
        for x in [
            0.0,
            -0.0,
            1.0,
            -3.613_28,
            65_504.0,
            65_520.0,
            1e9,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            5.960_464_5e-8,
            2.980_232_2e-8,
            5.094_625_5e-8,
            6.103_515_6e-5,
            6.097_555e-5,
        ] {
            check(x);
        }
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            check(f32::from_bits(seed));
        }
    }

    #[test]
    fn embedded_model_unpacks_to_the_original_layout() {
        let m = unpack().unwrap();
        assert_eq!(m.len(), ORIGINAL_BYTES);
        // The reader gives the same bytes, whatever the size of the reads.
        for chunk in [4, 1, 3, 4096] {
            let mut r = reader().unwrap();
            let mut streamed = Vec::new();
            let mut buf = vec![0u8; chunk];
            loop {
                let n = std::io::Read::read(&mut r, &mut buf).unwrap();
                if n == 0 {
                    break;
                }
                streamed.extend_from_slice(&buf[..n]);
            }
            assert!(streamed == m, "reads of {chunk}");
            // The same with `read_exact` (how rustface reads), and then the end.
            let mut r = reader().unwrap();
            let mut exact = Vec::new();
            for _ in 0..m.len() / chunk {
                std::io::Read::read_exact(&mut r, &mut buf).unwrap();
                exact.extend_from_slice(&buf);
            }
            let mut tail = vec![0u8; m.len() % chunk];
            std::io::Read::read_exact(&mut r, &mut tail).unwrap();
            exact.extend_from_slice(&tail);
            assert!(exact == m, "exact reads of {chunk}");
            let err = std::io::Read::read_exact(&mut r, &mut [0u8; 1]).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
        }
        // Packing it again gives the packed layout back, bit for bit.
        let again = pack_model(&m).unwrap();
        assert_eq!(again, PACKED);
        assert!(rustface::read_model(std::io::Cursor::new(&m)).is_ok());
    }

    #[test]
    fn damaged_models_are_typed_errors() {
        let m = unpack().unwrap();
        assert!(matches!(
            pack_model(&m[..m.len() - 1]),
            Err(ModelError::Truncated(_))
        ));
        assert_eq!(pack_model(&[]), Err(ModelError::Truncated(0)));
        let mut extra = m.clone();
        extra.extend_from_slice(&[0; 4]);
        assert_eq!(pack_model(&extra), Err(ModelError::Trailing(4)));
        // A negative or huge count, an unknown classifier kind.
        for (at, value) in [(0usize, -1i32), (0, i32::MAX), (12, 7)] {
            let mut bad = m.clone();
            bad[at..at + 4].copy_from_slice(&value.to_le_bytes());
            assert!(
                matches!(pack_model(&bad), Err(ModelError::BadField { .. })),
                "{at} {value}"
            );
        }
    }
}
