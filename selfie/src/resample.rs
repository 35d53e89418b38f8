//! Crop + resize with a separable triangle filter (area-like when downscaling,
//! bilinear when upscaling), streaming one output row at a time so the only extra
//! memory is one row of accumulators. Then the EXIF orientation is applied to the
//! small result.

/// An 8-bit image with 1 (grey) or 3 (RGB) interleaved channels.
#[derive(Debug, Clone)]
pub(crate) struct Raster {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub data: Vec<u8>,
}

/// Filter taps for one axis: for each output index, the first source index and
/// its normalised weights.
struct Taps {
    starts: Vec<usize>,
    offsets: Vec<usize>,
    weights: Vec<f32>,
}

impl Taps {
    /// Maps the source window `[origin, origin + window)` (in pixels, fractional)
    /// of an axis of `src_len` pixels onto `dst_len` output pixels.
    fn new(src_len: usize, origin: f64, window: f64, dst_len: usize) -> Taps {
        let scale = window / dst_len as f64;
        let support = scale.max(1.0);
        let mut starts = Vec::with_capacity(dst_len);
        let mut offsets = Vec::with_capacity(dst_len + 1);
        let mut weights = Vec::new();
        offsets.push(0);
        let last = src_len.saturating_sub(1);
        // Taps never reach outside the crop window.
        let win_lo = origin.floor().max(0.0);
        let win_hi = ((origin + window).ceil() as usize).min(src_len);
        for i in 0..dst_len {
            let centre = origin + (i as f64 + 0.5) * scale;
            let lo = ((centre - support).floor().max(win_lo) as usize).min(last);
            let hi = ((centre + support).ceil().max(0.0) as usize)
                .min(win_hi)
                .max(lo + 1);
            let first = weights.len();
            let mut sum = 0.0f64;
            for j in lo..hi {
                let d = ((j as f64 + 0.5) - centre).abs() / support;
                let w = (1.0 - d).max(0.0);
                sum += w;
                weights.push(w);
            }
            if sum <= 0.0 {
                // Cannot happen for a non-empty window; fall back to the nearest pixel.
                weights.truncate(first);
                let nearest = (centre.max(0.0) as usize).min(last);
                starts.push(nearest);
                weights.push(1.0);
            } else {
                for w in &mut weights[first..] {
                    *w /= sum;
                }
                starts.push(lo);
            }
            offsets.push(weights.len());
        }
        Taps {
            starts,
            offsets,
            weights: weights.into_iter().map(|w| w as f32).collect(),
        }
    }

    fn get(&self, i: usize) -> (usize, &[f32]) {
        (
            self.starts[i],
            &self.weights[self.offsets[i]..self.offsets[i + 1]],
        )
    }
}

/// Centre-crops `src` to the aspect ratio `dst_w:dst_h` and resizes it to exactly
/// `dst_w × dst_h`. The crop may be fractional: the filter handles sub-pixel windows.
/// The result goes into `buf` (its old contents are dropped, its allocation reused).
pub(crate) fn crop_resize(src: &Raster, dst_w: usize, dst_h: usize, buf: Vec<u8>) -> Raster {
    if src.channels == 1 {
        crop_resize_n::<1>(src, dst_w, dst_h, buf)
    } else {
        crop_resize_n::<3>(src, dst_w, dst_h, buf)
    }
}

/// `buf` emptied and filled with `len` zeros, reusing its allocation.
fn zeroed(mut buf: Vec<u8>, len: usize) -> Vec<u8> {
    buf.clear();
    buf.resize(len, 0);
    buf
}

fn crop_resize_n<const C: usize>(src: &Raster, dst_w: usize, dst_h: usize, buf: Vec<u8>) -> Raster {
    let (sw, sh) = (src.width as f64, src.height as f64);
    let target = dst_w as f64 / dst_h as f64;
    let (cw, ch) = if sw / sh > target {
        (sh * target, sh)
    } else {
        (sw, sw / target)
    };
    let (x0, y0) = ((sw - cw) / 2.0, (sh - ch) / 2.0);
    let xt = Taps::new(src.width, x0, cw, dst_w);
    let yt = Taps::new(src.height, y0, ch, dst_h);

    // Only the source columns some output column reads.
    let col_lo = xt.starts.first().copied().unwrap_or(0);
    let col_hi = (0..dst_w)
        .map(|i| {
            let (s, w) = xt.get(i);
            s + w.len()
        })
        .max()
        .unwrap_or(col_lo)
        .max(col_lo);
    let mut out = zeroed(buf, dst_w * dst_h * C);
    let cols = Cols {
        lo: col_lo,
        hi: col_hi,
    };
    let xp = Padded::new(&xt, col_lo);
    // Two threads, each making half of the output rows (they only read `src`).
    let split = if dst_h >= 64 && super::decode::parallel() {
        dst_h / 2
    } else {
        dst_h
    };
    let (first, second) = out.split_at_mut(split * dst_w * C);
    std::thread::scope(|s| {
        if !second.is_empty() {
            s.spawn(|| rows::<C>(src, &xp, &yt, cols, second, split));
        }
        rows::<C>(src, &xp, &yt, cols, first, 0);
    });
    Raster {
        width: dst_w,
        height: dst_h,
        channels: C,
        data: out,
    }
}

/// The source columns some output column reads.
#[derive(Clone, Copy)]
struct Cols {
    lo: usize,
    hi: usize,
}

/// The horizontal taps padded with zero weights to the same count `k` for every output
/// column, so the inner loop has a fixed length (unrolled, no bounds checks). The
/// padding reads columns past the last one some tap needs: the accumulator row has `k`
/// more, always zero. Adding `0 × 0` changes no sum, so the pixels are the same.
struct Padded {
    k: usize,
    /// First tap per output column, from the first column read (`Cols::lo`).
    starts: Vec<usize>,
    /// `k` weights per output column.
    weights: Vec<f32>,
}

impl Padded {
    fn new(t: &Taps, col_lo: usize) -> Padded {
        let n = t.starts.len();
        let k = (0..n).map(|i| t.get(i).1.len()).max().unwrap_or(1);
        let mut weights = Vec::with_capacity(n * k);
        let mut starts = Vec::with_capacity(n);
        for i in 0..n {
            let (start, w) = t.get(i);
            starts.push(start - col_lo);
            weights.extend_from_slice(w);
            weights.resize(weights.len() + k - w.len(), 0.0);
        }
        Padded { k, starts, weights }
    }
}

/// One output row from the accumulated (vertically filtered) columns.
fn horizontal<const C: usize, const K: usize>(acc: &[f32], xp: &Padded, out_row: &mut [u8]) {
    let pixels = out_row.chunks_exact_mut(C).zip(&xp.starts);
    for ((px, &start), w) in pixels.zip(xp.weights.chunks_exact(K)) {
        let Some(taps) = acc.get(start * C..(start + K) * C) else {
            continue;
        };
        let mut sum = [0f32; C];
        for (k, &wk) in w.iter().enumerate().take(K) {
            for ch in 0..C {
                sum[ch] += wk * taps[k * C + ch];
            }
        }
        for ch in 0..C {
            px[ch] = (sum[ch] + 0.5).clamp(0.0, 255.0) as u8;
        }
    }
}

/// [`horizontal`] for any tap count.
fn horizontal_any<const C: usize>(acc: &[f32], xp: &Padded, out_row: &mut [u8]) {
    match xp.k {
        1 => horizontal::<C, 1>(acc, xp, out_row),
        2 => horizontal::<C, 2>(acc, xp, out_row),
        3 => horizontal::<C, 3>(acc, xp, out_row),
        4 => horizontal::<C, 4>(acc, xp, out_row),
        5 => horizontal::<C, 5>(acc, xp, out_row),
        6 => horizontal::<C, 6>(acc, xp, out_row),
        k => {
            let pixels = out_row.chunks_exact_mut(C).zip(&xp.starts);
            for ((px, &start), w) in pixels.zip(xp.weights.chunks_exact(k)) {
                let taps = &acc[start * C..(start + k) * C];
                let mut sum = [0f32; C];
                for (&wk, a) in w.iter().zip(taps.chunks_exact(C)) {
                    for ch in 0..C {
                        sum[ch] += wk * a[ch];
                    }
                }
                for ch in 0..C {
                    px[ch] = (sum[ch] + 0.5).clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
}

/// Makes output rows `y0..` into `out` (whole rows).
fn rows<const C: usize>(
    src: &Raster,
    xp: &Padded,
    yt: &Taps,
    cols: Cols,
    out: &mut [u8],
    y0: usize,
) {
    let dst_w = xp.starts.len();
    let row_len = src.width * C;
    let (col_lo, col_hi) = (cols.lo, cols.hi);
    // The last `k` pixels of the row stay zero (the horizontal taps' padding).
    let n = (col_hi - col_lo) * C;
    let mut acc = vec![0f32; n + xp.k * C];
    for (dy, out_row) in out.chunks_exact_mut(dst_w * C).enumerate() {
        let y = y0 + dy;
        let (start, wy) = yt.get(y);
        let from = start * row_len + col_lo * C;
        let rows = &src.data[from..];
        let row = &mut acc[..n];
        match *wy {
            [a] => vertical::<1>(rows, row_len, [a], row),
            [a, b] => vertical::<2>(rows, row_len, [a, b], row),
            [a, b, c] => vertical::<3>(rows, row_len, [a, b, c], row),
            [a, b, c, d] => vertical::<4>(rows, row_len, [a, b, c, d], row),
            [a, b, c, d, e] => vertical::<5>(rows, row_len, [a, b, c, d, e], row),
            _ => {
                row.iter_mut().for_each(|a| *a = 0.0);
                for (k, &w) in wy.iter().enumerate() {
                    let src_row = &rows[k * row_len..][..n];
                    for (a, &s) in row.iter_mut().zip(src_row) {
                        *a += w * f32::from(s);
                    }
                }
            }
        }
        horizontal_any::<C>(&acc, xp, out_row);
    }
}

/// One row of vertically filtered values: `acc[j]` = Σ `w[k]` × `rows[k × stride + j]`,
/// summed in tap order from the first product. That is the sum the tap-by-tap loop
/// (zeroed row, then one pass per tap) makes, bit for bit (`0.0 + x` is `x` for the
/// non-negative products here), with one pass over the row instead of one per tap and
/// no accumulator reloads: the resize's vertical half is most of its time.
#[inline(always)]
fn vertical<const K: usize>(rows: &[u8], stride: usize, w: [f32; K], acc: &mut [f32]) {
    let n = acc.len();
    let src: [&[u8]; K] = std::array::from_fn(|k| &rows[k * stride..][..n]);
    for (j, a) in acc.iter_mut().enumerate() {
        let mut s = w[0] * f32::from(src[0][j]);
        for k in 1..K {
            s += w[k] * f32::from(src[k][j]);
        }
        *a = s;
    }
}

/// Do orientations 5–8 swap width and height?
pub(crate) fn swaps_axes(orientation: u32) -> bool {
    (5..=8).contains(&orientation)
}

/// Applies an EXIF orientation (1–8; anything else is treated as 1) and returns an
/// upright image, made in `spare` (or `src` itself for 1), and the buffer left over.
pub(crate) fn orient(src: Raster, orientation: u32, spare: Vec<u8>) -> (Raster, Vec<u8>) {
    if !(2..=8).contains(&orientation) {
        return (src, spare);
    }
    let (w, h, c) = (src.width, src.height, src.channels);
    let (ow, oh) = if swaps_axes(orientation) {
        (h, w)
    } else {
        (w, h)
    };
    let mut out = zeroed(spare, w * h * c);
    for y in 0..oh {
        for x in 0..ow {
            // Source pixel shown at upright (x, y).
            let (sx, sy) = match orientation {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (y, h - 1 - x),
                7 => (w - 1 - y, h - 1 - x),
                _ => (w - 1 - y, x), // 8
            };
            let s = (sy * w + sx) * c;
            let d = (y * ow + x) * c;
            out[d..d + c].copy_from_slice(&src.data[s..s + c]);
        }
    }
    let upright = Raster {
        width: ow,
        height: oh,
        channels: c,
        data: out,
    };
    (upright, src.data)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pattern(w: usize, h: usize) -> Raster {
        let data = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
        Raster {
            width: w,
            height: h,
            channels: 3,
            data,
        }
    }

    #[test]
    fn orientation_matches_image_crate() {
        use image::metadata::Orientation;
        let src = pattern(5, 3);
        for o in 1..=8u8 {
            let (got, _) = orient(src.clone(), u32::from(o), Vec::new());
            let mut img = image::DynamicImage::ImageRgb8(
                image::RgbImage::from_raw(5, 3, src.data.clone()).unwrap(),
            );
            img.apply_orientation(Orientation::from_exif(o).unwrap());
            assert_eq!(
                (got.width as u32, got.height as u32),
                (img.width(), img.height())
            );
            assert_eq!(got.data, img.to_rgb8().into_raw(), "orientation {o}");
        }
    }

    #[test]
    fn resize_keeps_flat_colour_and_exact_size() {
        for (w, h) in [(4000, 3000), (300, 200), (7, 11), (1, 1)] {
            let src = Raster {
                width: w,
                height: h,
                channels: 3,
                data: [10u8, 128, 250].repeat(w * h),
            };
            let out = crop_resize(&src, 60, 80, vec![9; 100_000]);
            assert_eq!((out.width, out.height), (60, 80));
            assert!(out.data.chunks(3).all(|p| p == [10, 128, 250]), "{w}x{h}");
        }
    }

    /// The padded taps give the pixels the plain per-column taps give, bit for bit.
    #[test]
    fn padded_taps_match_the_plain_filter() {
        fn plain(src: &Raster, dst_w: usize, dst_h: usize) -> Vec<u8> {
            let c = src.channels;
            let (sw, sh) = (src.width as f64, src.height as f64);
            let target = dst_w as f64 / dst_h as f64;
            let (cw, ch) = if sw / sh > target {
                (sh * target, sh)
            } else {
                (sw, sw / target)
            };
            let xt = Taps::new(src.width, (sw - cw) / 2.0, cw, dst_w);
            let yt = Taps::new(src.height, (sh - ch) / 2.0, ch, dst_h);
            let mut out = Vec::new();
            for y in 0..dst_h {
                let mut acc = vec![0f32; src.width * c];
                let (start, wy) = yt.get(y);
                for (k, &w) in wy.iter().enumerate() {
                    let row = &src.data[(start + k) * src.width * c..][..src.width * c];
                    for (a, &s) in acc.iter_mut().zip(row) {
                        *a += w * f32::from(s);
                    }
                }
                for x in 0..dst_w {
                    let (start, wx) = xt.get(x);
                    for ch in 0..c {
                        let mut sum = 0f32;
                        for (k, &w) in wx.iter().enumerate() {
                            sum += w * acc[(start + k) * c + ch];
                        }
                        out.push((sum + 0.5).clamp(0.0, 255.0) as u8);
                    }
                }
            }
            out
        }
        for (w, h, c) in [
            (1500, 1125, 3),
            (1125, 1500, 3),
            (512, 512, 3),
            (801, 333, 1),
            (9, 7, 3),
        ] {
            let mut src = pattern(w, h);
            if c == 1 {
                src.data.truncate(w * h);
                src.channels = 1;
            }
            let out = crop_resize(&src, 600, 800, Vec::new());
            assert!(out.data == plain(&src, 600, 800), "{w}x{h}x{c}");
        }
    }

    #[test]
    fn resize_crops_the_centre() {
        // Landscape: left and right thirds black, centre white; a 3:4 crop is all white.
        let (w, h) = (400, 300);
        let mut data = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                if (w - 225) / 2 - 1 <= x && x < (w + 225) / 2 + 1 {
                    data[y * w + x] = 255;
                }
            }
        }
        let src = Raster {
            width: w,
            height: h,
            channels: 1,
            data,
        };
        let out = crop_resize(&src, 30, 40, Vec::new());
        assert!(out.data.iter().all(|&v| v >= 250), "{:?}", &out.data[..30]);
    }
}
