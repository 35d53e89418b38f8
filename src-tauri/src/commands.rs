//! The Tauri commands: each is a one-liner over [`Wallet`] (see `COMMANDS.md`).
//!
//! Every command is `async` so that none runs on the main (UI) thread; the ones that
//! do heavy CPU work (Argon2 for PINs, image decoding) run on the blocking pool.

use base64::Engine as _;
use ikd_core::error::{ErrorCode, UiError};
use ikd_core::secret::SecretString;
use ikd_core::view::{
    AppState, EnrollmentView, HistoryEntry, HomeView, KkView, KtpView, NikInfo, RegisterForm,
    SelfieView, Settings,
};
use ikd_core::wallet::present::{
    ConsentView, PendingPresentation, PresentationOutcome, ShareChoice,
};
use ikd_core::wallet::Wallet;
use std::sync::{Arc, Mutex};
use tauri::State;

type W<'a> = State<'a, Arc<Wallet>>;
type R<T> = Result<T, UiError>;

/// The checked presentation request waiting for "Bagikan" / "Tolak" (one at a time).
#[derive(Default)]
pub struct Presenting(Mutex<Option<PendingPresentation>>);
type P<'a> = State<'a, Presenting>;

impl Presenting {
    fn set(&self, p: Option<PendingPresentation>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = p;
    }
    fn get(&self) -> R<PendingPresentation> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| UiError::new(ErrorCode::InvalidState, "no presentation request"))
    }
}

/// Runs `f` on the blocking pool (Argon2, image work), off the async workers.
async fn blocking<T: Send + 'static>(
    w: &W<'_>,
    f: impl FnOnce(&Wallet) -> R<T> + Send + 'static,
) -> R<T> {
    let w = Arc::clone(w.inner());
    tauri::async_runtime::spawn_blocking(move || f(&w))
        .await
        .map_err(|_| UiError::new(ErrorCode::Internal, "background task failed"))?
}

/// Binary input travels as base64 (standard alphabet; a `data:` URL prefix is allowed).
fn b64(input: &str) -> R<Vec<u8>> {
    let data = match input.split_once(";base64,") {
        Some((_, d)) => d,
        None => input,
    };
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| UiError::new(ErrorCode::ImageInvalid, "the image is not valid base64"))
}

#[tauri::command]
pub async fn app_state(w: W<'_>) -> R<AppState> {
    w.app_state()
}
#[tauri::command]
pub async fn check_nik(w: W<'_>, nik: String) -> R<NikInfo> {
    w.check_nik(&nik)
}
#[tauri::command]
pub async fn check_email(w: W<'_>, email: String) -> R<String> {
    w.check_email(&email)
}
#[tauri::command]
pub async fn check_phone(w: W<'_>, phone: String) -> R<String> {
    w.check_phone(&phone)
}
#[tauri::command]
pub async fn process_selfie(w: W<'_>, image_b64: String) -> R<SelfieView> {
    let bytes = b64(&image_b64)?;
    blocking(&w, move |w| w.process_selfie(&bytes)).await
}
#[tauri::command]
pub async fn submit_enrollment(w: W<'_>, form: RegisterForm) -> R<EnrollmentView> {
    w.submit_enrollment(form).await
}
#[tauri::command]
pub async fn decode_qr_image(w: W<'_>, image_b64: String) -> R<String> {
    let bytes = b64(&image_b64).map_err(|e| UiError::new(ErrorCode::QrInvalid, e.message))?;
    blocking(&w, move |w| w.decode_qr_image(&bytes)).await
}
#[tauri::command]
pub async fn scan_desk_qr(w: W<'_>, text: String) -> R<EnrollmentView> {
    w.scan_desk_qr(&text).await
}
#[tauri::command]
pub async fn refresh_status(w: W<'_>) -> R<EnrollmentView> {
    w.refresh_status().await
}
#[tauri::command]
pub async fn resend_code(w: W<'_>) -> R<EnrollmentView> {
    w.resend_code().await
}
#[tauri::command]
pub async fn activate(w: W<'_>, code: SecretString) -> R<AppState> {
    w.activate(code).await
}
#[tauri::command]
pub async fn check_pin(w: W<'_>, pin: SecretString) -> R<()> {
    w.check_pin(&pin)
}
#[tauri::command]
pub async fn set_pin(w: W<'_>, pin: SecretString, confirm: SecretString) -> R<AppState> {
    blocking(&w, move |w| w.set_pin(pin, confirm)).await
}
#[tauri::command]
pub async fn unlock(w: W<'_>, pin: SecretString) -> R<AppState> {
    blocking(&w, move |w| w.unlock(pin)).await
}
#[tauri::command]
pub async fn lock(w: W<'_>) -> R<AppState> {
    w.lock()
}
#[tauri::command]
pub async fn touch(w: W<'_>) -> R<()> {
    w.touch();
    Ok(())
}
#[tauri::command]
pub async fn home(w: W<'_>) -> R<HomeView> {
    w.home()
}
#[tauri::command]
pub async fn ktp(w: W<'_>) -> R<KtpView> {
    blocking(&w, |w| w.ktp()).await
}
#[tauri::command]
pub async fn kk(w: W<'_>) -> R<KkView> {
    blocking(&w, |w| w.kk()).await
}
#[tauri::command]
pub async fn history(w: W<'_>) -> R<Vec<HistoryEntry>> {
    w.history()
}
#[tauri::command]
pub async fn change_pin(w: W<'_>, old_pin: SecretString, new_pin: SecretString) -> R<()> {
    blocking(&w, move |w| w.change_pin(old_pin, new_pin)).await
}
#[tauri::command]
pub async fn verify_pin(w: W<'_>, pin: SecretString) -> R<()> {
    blocking(&w, move |w| w.verify_pin(pin)).await
}
#[tauri::command]
pub async fn presentation_request(w: W<'_>, p: P<'_>, link: String) -> R<ConsentView> {
    let pending = w.presentation_request(&link).await?;
    let view = pending.view().clone();
    p.set(Some(pending));
    Ok(view)
}
#[tauri::command]
pub async fn present(
    w: W<'_>,
    p: P<'_>,
    pin: SecretString,
    choices: Option<Vec<String>>,
) -> R<PresentationOutcome> {
    let choice = choices.map_or(ShareChoice::All, ShareChoice::Only);
    let out = w.present(&p.get()?, pin, &choice).await?;
    p.set(None);
    Ok(out)
}
#[tauri::command]
pub async fn decline_presentation(w: W<'_>, p: P<'_>) -> R<PresentationOutcome> {
    let out = w.decline(&p.get()?).await?;
    p.set(None);
    Ok(out)
}
#[tauri::command]
pub async fn settings(w: W<'_>) -> R<Settings> {
    w.settings()
}
#[tauri::command]
pub async fn set_settings(w: W<'_>, settings: Settings) -> R<Settings> {
    w.set_settings(settings)
}
#[tauri::command]
pub async fn refresh_documents(w: W<'_>) -> R<()> {
    w.refresh_documents().await
}
#[tauri::command]
pub async fn release_device(w: W<'_>) -> R<AppState> {
    w.release_device().await
}
#[tauri::command]
pub async fn forgot_pin(w: W<'_>) -> R<EnrollmentView> {
    w.forgot_pin().await
}
#[tauri::command]
pub async fn reset_pin_with_code(w: W<'_>, code: SecretString) -> R<AppState> {
    w.reset_pin_with_code(code).await
}
#[tauri::command]
pub async fn reset_enrollment(w: W<'_>) -> R<AppState> {
    w.reset_enrollment()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn base64_input_accepts_plain_and_data_urls() {
        assert_eq!(b64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(b64("data:image/png;base64,aGVsbG8=").unwrap(), b"hello");
        assert_eq!(
            b64("not base64!").unwrap_err().code,
            ErrorCode::ImageInvalid
        );
    }
}
