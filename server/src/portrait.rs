//! Synthetic portraits for the SIAK simulator: a coloured background (red for an odd
//! birth year, blue for an even one, as on KTP-el photos), a face oval, hair, eyes,
//! mouth and shoulders. Deterministic from a seed. No real person.

use image::{ImageBuffer, Rgb, RgbImage};

pub const WIDTH: u32 = 300;
pub const HEIGHT: u32 = 400;

const SKIN: &[[u8; 3]] = &[
    [241, 194, 155],
    [224, 172, 125],
    [198, 145, 100],
    [170, 120, 80],
    [141, 96, 62],
];
const HAIR: &[[u8; 3]] = &[[20, 18, 16], [45, 32, 24], [70, 50, 35], [110, 110, 110]];
const SHIRT: &[[u8; 3]] = &[[240, 240, 240], [30, 40, 90], [20, 20, 20], [120, 20, 30]];

fn in_ellipse(x: f32, y: f32, cx: f32, cy: f32, rx: f32, ry: f32) -> bool {
    let dx = (x - cx) / rx;
    let dy = (y - cy) / ry;
    dx * dx + dy * dy <= 1.0
}

/// Draws a portrait and encodes it as JPEG (quality 85, 4:2:0; the jpeg-encoder crate,
/// several times faster than `image`'s encoder).
pub fn portrait_jpeg(seed: u64, birth_year: i32, female: bool) -> Vec<u8> {
    let img = draw(seed, birth_year, female);
    let mut out = Vec::with_capacity(16 * 1024);
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 85);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    // WIDTH and HEIGHT are small constants and the buffer matches them, so encoding into
    // memory cannot fail.
    enc.encode(
        img.as_raw(),
        WIDTH as u16,
        HEIGHT as u16,
        jpeg_encoder::ColorType::Rgb,
    )
    .expect("encoding an RGB buffer of the portrait's fixed size into memory does not fail");
    out
}

pub fn draw(seed: u64, birth_year: i32, female: bool) -> RgbImage {
    let pick = |n: usize, shift: u32| ((seed >> shift) as usize) % n;
    let bg = if birth_year % 2 != 0 {
        [200, 30, 35]
    } else {
        [25, 70, 170]
    };
    let skin = SKIN[pick(SKIN.len(), 0)];
    let hair = HAIR[pick(HAIR.len(), 8)];
    let shirt = SHIRT[pick(SHIRT.len(), 16)];
    let face_rx = 62.0 + (pick(10, 24) as f32);
    let face_ry = 82.0 + (pick(10, 32) as f32);
    let (cx, cy) = (150.0f32, 175.0f32);
    let long_hair = female || pick(5, 40) == 0;
    ImageBuffer::from_fn(WIDTH, HEIGHT, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        // shoulders
        if in_ellipse(xf, yf, cx, 420.0, 140.0, 110.0) {
            return Rgb(shirt);
        }
        // neck
        if (xf - cx).abs() < 28.0 && yf > cy + 40.0 && yf < 330.0 {
            return Rgb(skin);
        }
        // long hair behind the face
        if long_hair
            && in_ellipse(xf, yf, cx, cy + 30.0, face_rx + 22.0, face_ry + 40.0)
            && yf < 300.0
        {
            let face = in_ellipse(xf, yf, cx, cy, face_rx, face_ry);
            if !face {
                return Rgb(hair);
            }
        }
        if in_ellipse(xf, yf, cx, cy, face_rx, face_ry) {
            // hair on top
            if in_ellipse(xf, yf, cx, cy - 45.0, face_rx + 4.0, face_ry * 0.55) && yf < cy - 35.0 {
                return Rgb(hair);
            }
            // eyes
            for ex in [cx - 25.0, cx + 25.0] {
                if in_ellipse(xf, yf, ex, cy - 5.0, 4.0, 4.0) {
                    return Rgb([30, 25, 20]);
                }
                if in_ellipse(xf, yf, ex, cy - 5.0, 9.0, 5.0) {
                    return Rgb([250, 250, 250]);
                }
                // eyebrows
                if (yf - (cy - 20.0)).abs() < 2.5 && (xf - ex).abs() < 12.0 {
                    return Rgb(hair);
                }
            }
            // nose
            if (xf - cx).abs() < 3.0 && yf > cy && yf < cy + 25.0 {
                let s = skin.map(|c| c.saturating_sub(35));
                return Rgb(s);
            }
            // mouth
            if in_ellipse(xf, yf, cx, cy + 45.0, 20.0, 5.0) {
                return Rgb([150, 60, 60]);
            }
            return Rgb(skin);
        }
        // hair crown above the face
        if in_ellipse(xf, yf, cx, cy - 40.0, face_rx + 8.0, face_ry * 0.75) && yf < cy - 20.0 {
            return Rgb(hair);
        }
        Rgb(bg)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn portrait_is_a_300x400_jpeg_with_kt_background() {
        let j = portrait_jpeg(7, 1991, false);
        let img = image::load_from_memory(&j).unwrap().to_rgb8();
        assert_eq!((img.width(), img.height()), (300, 400));
        let corner = img.get_pixel(2, 2);
        assert!(
            corner[0] > 150 && corner[2] < 100,
            "odd year: red background"
        );
        let blue = image::load_from_memory(&portrait_jpeg(7, 1990, true))
            .unwrap()
            .to_rgb8();
        assert!(blue.get_pixel(2, 2)[2] > 120, "even year: blue background");
    }
}
