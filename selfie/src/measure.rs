//! Brightness (mean luma) and sharpness (variance of the Laplacian).

/// Rec. 601 luma of an RGB (or grey) raster, as f32 0–255.
pub(crate) fn luma(data: &[u8], channels: usize) -> Vec<f32> {
    if channels == 1 {
        return data.iter().map(|&v| f32::from(v)).collect();
    }
    data.chunks_exact(channels)
        .map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
        .collect()
}

/// Mean of the luma plane, 0–255.
pub(crate) fn brightness(luma: &[f32]) -> f32 {
    if luma.is_empty() {
        return 0.0;
    }
    (luma.iter().map(|&v| f64::from(v)).sum::<f64>() / luma.len() as f64) as f32
}

/// Variance of the 4-neighbour Laplacian over the interior pixels.
pub(crate) fn laplacian_variance(luma: &[f32], width: usize, height: usize) -> f32 {
    if width < 3 || height < 3 || luma.len() < width * height {
        return 0.0;
    }
    let (mut sum, mut sum_sq, mut n) = (0f64, 0f64, 0f64);
    for y in 1..height - 1 {
        let up = &luma[(y - 1) * width..y * width];
        let row = &luma[y * width..(y + 1) * width];
        let down = &luma[(y + 1) * width..(y + 2) * width];
        let mut row_sum = 0f32;
        let mut row_sq = 0f32;
        for x in 1..width - 1 {
            let l = up[x] + down[x] + row[x - 1] + row[x + 1] - 4.0 * row[x];
            row_sum += l;
            row_sq += l * l;
        }
        sum += f64::from(row_sum);
        sum_sq += f64::from(row_sq);
        n += (width - 2) as f64;
    }
    let mean = sum / n;
    (sum_sq / n - mean * mean).max(0.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_image_has_no_sharpness() {
        let l = vec![100.0; 30 * 40];
        assert_eq!(brightness(&l), 100.0);
        assert_eq!(laplacian_variance(&l, 30, 40), 0.0);
    }

    #[test]
    fn checkerboard_is_sharp() {
        let (w, h) = (30, 40);
        let l: Vec<f32> = (0..w * h)
            .map(|i| if (i % w + i / w) % 2 == 0 { 0.0 } else { 255.0 })
            .collect();
        assert!(laplacian_variance(&l, w, h) > 100_000.0);
        assert!((brightness(&l) - 127.5).abs() < 1.0);
    }
}
