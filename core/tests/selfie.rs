//! The selfie as the UI gets it: `ikd-selfie`'s result mapped to `SelfieView`, its
//! errors to `UiError` codes. The pipeline's own behaviour is tested in
//! `selfie/tests/selfie.rs`.
#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use ikd_core::error::{ErrorCode, UiError};
use ikd_core::selfie::{self, SelfieError};
use ikd_core::view::{SelfieVerdict, SelfieView};

const ASTRONAUT: &[u8] = include_bytes!("fixtures/astronaut.png");

#[test]
fn view_carries_the_jpeg_and_measurements() {
    let p = selfie::process(ASTRONAUT).unwrap();
    let view = SelfieView::from(&p);
    assert!(view.acceptable);
    assert!(view.verdicts.is_empty());
    assert_eq!((view.width, view.height), (600, 800));
    assert_eq!(view.bytes as usize, p.jpeg.len());
    assert_eq!(
        (view.brightness, view.sharpness),
        (p.brightness, p.sharpness)
    );
    let back = base64::engine::general_purpose::STANDARD
        .decode(&view.preview_jpeg)
        .unwrap();
    assert_eq!(back, p.jpeg);
}

#[test]
fn verdicts_map_one_to_one_and_make_the_picture_unacceptable() {
    let mut p = selfie::process(ASTRONAUT).unwrap();
    p.verdicts = selfie::verdicts(10.0, 1.0);
    let view = SelfieView::from(&p);
    assert!(!view.acceptable);
    assert_eq!(
        view.verdicts,
        vec![
            SelfieVerdict::TooDark {
                brightness: 10.0,
                min: selfie::MIN_BRIGHTNESS
            },
            SelfieVerdict::Blurry {
                sharpness: 1.0,
                min: selfie::MIN_SHARPNESS
            },
        ]
    );
    assert_eq!(
        SelfieVerdict::from(selfie::Verdict::TooBright {
            brightness: 250.0,
            max: 200.0
        }),
        SelfieVerdict::TooBright {
            brightness: 250.0,
            max: 200.0
        }
    );
}

#[test]
fn errors_map_to_stable_codes() {
    let ui = UiError::from(SelfieError::TooLarge { bytes: 1 });
    assert_eq!(ui.code, ErrorCode::ImageTooLarge);
    assert_eq!(ui.detail.unwrap()["bytes"], 1);
    let ui = UiError::from(SelfieError::TooManyPixels { w: 2, h: 3 });
    assert_eq!(ui.code, ErrorCode::ImageTooLarge);
    assert_eq!(ui.detail.unwrap()["height"], 3);
    for (e, reason) in [
        (SelfieError::Corrupt("x".into()), "corrupt"),
        (SelfieError::Truncated, "truncated"),
        (SelfieError::UnsupportedFormat, "unsupported_format"),
    ] {
        let ui = UiError::from(e);
        assert_eq!(ui.code, ErrorCode::ImageInvalid);
        assert_eq!(ui.detail.unwrap()["reason"], reason);
    }
    assert_eq!(
        UiError::from(SelfieError::Encode("x".into())).code,
        ErrorCode::Internal
    );
    // Through the pipeline: a cut JPEG reaches the UI as image_invalid / truncated.
    let ui = UiError::from(selfie::process(&[0xFF, 0xD8, 0xFF]).unwrap_err());
    assert_eq!(ui.code, ErrorCode::ImageInvalid);
}
