//! Brightness (mean luma), sharpness (variance of the Laplacian) and the grey plane
//! for the face check, straight from the RGB pixels: no luma plane is kept (at
//! 600×800 it would be 1.9 MB of `f32`, about 470 fresh pages per process).

/// Rec. 601 luma of one RGB pixel, 0–255.
#[inline]
fn luma(p: &[u8]) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

/// The luma of an RGB raster rounded to 8 bits, into `out` (its old contents are
/// dropped, its allocation reused).
pub(crate) fn gray_into(rgb: &[u8], mut out: Vec<u8>) -> Vec<u8> {
    out.clear();
    // + 0.5 and truncation: `round` for these non-negative values, without a libm call
    // per pixel.
    out.extend(
        rgb.chunks_exact(3)
            .map(|p| (luma(p).clamp(0.0, 255.0) + 0.5) as u8),
    );
    out
}

/// Mean luma (0–255) and the variance of the 4-neighbour Laplacian of the luma over
/// the interior pixels, of a `width × height` RGB raster. One pass; three rows of luma
/// at a time.
pub(crate) fn brightness_and_sharpness(rgb: &[u8], width: usize, height: usize) -> (f32, f32) {
    if width == 0 || height == 0 || rgb.len() < width * height * 3 {
        return (0.0, 0.0);
    }
    let mut rows = [vec![0f32; width], vec![0f32; width], vec![0f32; width]];
    let mut total = 0f64;
    let (mut sum, mut sum_sq, mut n) = (0f64, 0f64, 0f64);
    for (y, px) in rgb.chunks_exact(width * 3).take(height).enumerate() {
        let row = &mut rows[y % 3];
        for (l, p) in row.iter_mut().zip(px.chunks_exact(3)) {
            *l = luma(p);
            total += f64::from(*l);
        }
        if y < 2 || width < 3 {
            continue;
        }
        // The Laplacian of the row above this one.
        let (up, mid, down) = (&rows[(y - 2) % 3], &rows[(y - 1) % 3], &rows[y % 3]);
        let mut row_sum = 0f32;
        let mut row_sq = 0f32;
        for x in 1..width - 1 {
            let l = up[x] + down[x] + mid[x - 1] + mid[x + 1] - 4.0 * mid[x];
            row_sum += l;
            row_sq += l * l;
        }
        sum += f64::from(row_sum);
        sum_sq += f64::from(row_sq);
        n += (width - 2) as f64;
    }
    let brightness = (total / (width * height) as f64) as f32;
    if n == 0.0 {
        return (brightness, 0.0);
    }
    let mean = sum / n;
    (brightness, (sum_sq / n - mean * mean).max(0.0) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb_of(luma: &[u8]) -> Vec<u8> {
        luma.iter().flat_map(|&v| [v, v, v]).collect()
    }

    #[test]
    fn flat_image_has_no_sharpness() {
        let rgb = rgb_of(&vec![100; 30 * 40]);
        let (b, s) = brightness_and_sharpness(&rgb, 30, 40);
        assert!((b - 100.0).abs() < 1e-3);
        assert_eq!(s, 0.0);
    }

    #[test]
    fn checkerboard_is_sharp() {
        let (w, h) = (30, 40);
        let l: Vec<u8> = (0..w * h)
            .map(|i| if (i % w + i / w) % 2 == 0 { 0 } else { 255 })
            .collect();
        let (b, s) = brightness_and_sharpness(&rgb_of(&l), w, h);
        assert!(s > 100_000.0);
        assert!((b - 127.5).abs() < 1.0);
    }

    /// The streaming pass gives what the luma plane gave, bit for bit.
    #[test]
    fn matches_the_luma_plane() {
        let (w, h) = (37, 23);
        let mut seed = 7u32;
        let rgb: Vec<u8> = (0..w * h * 3)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (seed >> 16) as u8
            })
            .collect();
        let plane: Vec<f32> = rgb.chunks_exact(3).map(luma).collect();
        let mean = (plane.iter().map(|&v| f64::from(v)).sum::<f64>() / plane.len() as f64) as f32;
        let (mut sum, mut sum_sq, mut n) = (0f64, 0f64, 0f64);
        for y in 1..h - 1 {
            let (mut rs, mut rq) = (0f32, 0f32);
            for x in 1..w - 1 {
                let l = plane[(y - 1) * w + x]
                    + plane[(y + 1) * w + x]
                    + plane[y * w + x - 1]
                    + plane[y * w + x + 1]
                    - 4.0 * plane[y * w + x];
                rs += l;
                rq += l * l;
            }
            sum += f64::from(rs);
            sum_sq += f64::from(rq);
            n += (w - 2) as f64;
        }
        let var = (sum_sq / n - (sum / n) * (sum / n)).max(0.0) as f32;
        assert_eq!(brightness_and_sharpness(&rgb, w, h), (mean, var));
        let gray = gray_into(&rgb, Vec::new());
        assert_eq!(gray.len(), w * h);
        assert!(gray
            .iter()
            .zip(&plane)
            .all(|(&g, &l)| g == (l.clamp(0.0, 255.0) + 0.5) as u8));
    }
}
