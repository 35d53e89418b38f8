//! The Tauri commands: each is a one-liner over [`Wallet`]. This list is the one
//! source: the [`commands!`] macro turns it into the `#[tauri::command]` functions,
//! the invoke [`handler`], and (in tests) the signatures that `scripts/gen` writes to
//! `gen/ts/commands.ts` and `gen/COMMANDS.md` (see `bindings.rs`). A doc comment is
//! the command's note in `gen/COMMANDS.md`.
//!
//! Every command is `async` so that none runs on the main (UI) thread; the ones that
//! do heavy CPU work (Argon2 for PINs, image decoding) run on the blocking pool.

use base64::Engine as _;
use ikd_core::error::{ErrorCode, UiError};
use ikd_core::secret::SecretString;
use ikd_core::view::{
    AppState, Draft, EnrollmentView, HistoryEntry, HomeView, KkView, KtpView, NikInfo,
    RegisterForm, SelfieView, Settings, UploadProgress,
};
use ikd_core::wallet::inspect::{CheckRequestView, CheckResultView};
use ikd_core::wallet::present::{ConsentView, PresentationOutcome};
use ikd_core::wallet::Wallet;
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::State;

/// The wallet slot; each command waits for the wallet to be open (`WalletSlot`).
type W<'a> = State<'a, crate::WalletSlot>;
type R<T> = Result<T, UiError>;

/// Runs `f` on the blocking pool (Argon2, image work), off the async workers.
async fn blocking<T: Send + 'static>(
    w: &Arc<Wallet>,
    f: impl FnOnce(&Wallet) -> R<T> + Send + 'static,
) -> R<T> {
    let w = Arc::clone(w);
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

/// The upload progress of a command, sent to the UI on its channel (Tauri 2's way to
/// stream to the frontend). A closed channel (the screen is gone) is not an error.
fn upload_to(ch: Channel<UploadProgress>) -> ikd_core::client::OnUpload {
    Arc::new(move |sent, total| {
        let _ = ch.send(UploadProgress::new(sent, total));
    })
}

/// Defines the commands (`fn name(w, arg: Type, …) -> Returns { body }`, `w` being the
/// wallet), the invoke handler over all of them, and their signatures for the bindings.
macro_rules! commands {
    ($(
        $(#[doc = $doc:literal])*
        fn $name:ident($w:ident $(, $arg:ident: $ty:ty)*) -> $ret:ty $body:block
    )*) => {
        $(
            $(#[doc = $doc])*
            #[tauri::command]
            pub async fn $name(slot: W<'_> $(, $arg: $ty)*) -> R<$ret> {
                let $w = slot.wallet().await?;
                $body
            }
        )*

        /// The invoke handler: every command above, and no other.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }

        /// Every command's signature, in order (for `gen/ts/commands.ts`).
        #[cfg(test)]
        pub fn signatures() -> Vec<crate::bindings::Signature> {
            vec![$(crate::bindings::Signature {
                name: stringify!($name),
                doc: vec![$($doc.trim()),*],
                args: vec![$((stringify!($arg), <$ty as crate::bindings::Arg>::ts())),*],
                returns: <$ret as ts_rs::TS>::name(),
            }),*]
        }
    };
}

commands! {
    /// Called at start and after every step; the UI routes on `stage`.
    fn app_state(w) -> AppState {
        w.app_state()
    }
    /// Live validation; error `invalid_nik` with `detail.reason`.
    fn check_nik(w, nik: String) -> NikInfo {
        w.check_nik(&nik)
    }
    /// The normalised address; error `invalid_email`.
    fn check_email(w, email: String) -> String {
        w.check_email(&email)
    }
    /// The number as `+628…`; error `invalid_phone`.
    fn check_phone(w, phone: String) -> String {
        w.check_phone(&phone)
    }
    /// Keeps the last processed selfie for submit; errors `image_too_large`,
    /// `image_invalid`.
    fn process_selfie(w, image_b64: String) -> SelfieView {
        let bytes = b64(&image_b64)?;
        blocking(&w, move |w| w.process_selfie(&bytes)).await
    }
    /// Uses the kept selfie; errors `consent_required`, `ineligible` (`detail.reason`:
    /// `under_age`, `not_recorded`, `deceased`), `not_found`, `offline`…
    /// `onProgress` gets the selfie upload's bytes the server has stored (`UploadProgress`).
    fn submit_enrollment(w, form: RegisterForm, on_progress: Channel<UploadProgress>) -> EnrollmentView {
        w.cancellable(w.submit_enrollment_counted(form, Some(upload_to(on_progress)))).await
    }
    /// Desktop "choose an image of the QR"; error `qr_invalid`.
    fn decode_qr_image(w, image_b64: String) -> String {
        let bytes = b64(&image_b64).map_err(|e| UiError::new(ErrorCode::QrInvalid, e.message))?;
        blocking(&w, move |w| w.decode_qr_image(&bytes)).await
    }
    /// Errors `qr_invalid`, `qr_expired`, `qr_used`.
    fn scan_desk_qr(w, text: String) -> EnrollmentView {
        w.cancellable(w.scan_desk_qr(&text)).await
    }
    /// The UI polls this with backoff while `submitted`/`scanned`.
    fn refresh_status(w) -> EnrollmentView {
        w.cancellable(w.refresh_status()).await
    }
    /// Error `rate_limited` with `detail.retry_after_secs`.
    fn resend_code(w) -> EnrollmentView {
        w.cancellable(w.resend_code()).await
    }
    /// Then stage `needs_pin`; errors `code_wrong` (`detail.attempts_left`),
    /// `code_expired`, `code_void`.
    fn activate(w, code: SecretString) -> AppState {
        w.cancellable(w.activate(code)).await
    }
    /// Policy only; error `pin_policy` with `detail.reason`: `length`, `repeated`,
    /// `sequence`, `birth_date`.
    fn check_pin(w, pin: SecretString) -> () {
        w.check_pin(&pin)
    }
    /// Then stage `unlocked`; errors `pin_policy`, `pin_mismatch`; the vault, both
    /// documents, the tokens and the state change are one SQLite transaction (on
    /// failure nothing changes and the PIN can be set again).
    fn set_pin(w, pin: SecretString, confirm: SecretString) -> AppState {
        blocking(&w, move |w| w.set_pin(pin, confirm)).await
    }
    /// Errors `wrong_pin` (`detail`: `LockoutView`), `locked_out` (`detail`:
    /// `LockoutView`), `vault_wiped`.
    fn unlock(w, pin: SecretString) -> AppState {
        blocking(&w, move |w| w.unlock(pin)).await
    }
    fn lock(w) -> AppState {
        w.lock()
    }
    /// User activity; resets the idle timer.
    fn touch(w) -> () {
        w.touch();
        Ok(())
    }
    /// Needs unlocked, else `vault_locked`.
    fn home(w) -> HomeView {
        w.home()
    }
    /// Signature re-checked each call; `issuer` is for display: the issuer metadata's
    /// `display` name with its host, or the host.
    fn ktp(w) -> KtpView {
        blocking(&w, |w| w.ktp()).await
    }
    fn kk(w) -> KkView {
        blocking(&w, |w| w.kk()).await
    }
    /// Newest first.
    fn history(w) -> Vec<HistoryEntry> {
        w.history()
    }
    /// Re-wraps the key only (one write with its history entry).
    fn change_pin(w, old_pin: SecretString, new_pin: SecretString) -> () {
        blocking(&w, move |w| w.change_pin(old_pin, new_pin)).await
    }
    /// Checks the PIN like `unlock` (a wrong one counts as an attempt: `wrong_pin` /
    /// `locked_out` with `LockoutView`) without changing the session; Ubah PIN asks it
    /// first.
    fn verify_pin(w, pin: SecretString) -> () {
        blocking(&w, move |w| w.verify_pin(pin)).await
    }
    /// Bagikan data: fetches and checks the signed request behind an `openid4vp://`
    /// link, evaluates DCQL against KTP and KK (needs unlocked) and keeps it for
    /// `present` / `decline_presentation`; error `qr_invalid` with `detail.reason`
    /// (`unknown_verifier`, `bad_signature`, `client_id_mismatch`, `unsigned`,
    /// `certificate`, `client_id_prefix`, `malformed`).
    fn presentation_request(w, link: String) -> ConsentView {
        w.cancellable(w.open_presentation(&link)).await
    }
    /// "Bagikan": the PIN, then only the chosen disclosures (`choices`: claim paths,
    /// `null` = all asked) with a KB-JWT by `direct_post(.jwt)`; history `presented`;
    /// error `invalid_state` (`detail.field`) when a required field is left out.
    fn present(w, pin: SecretString, choices: Option<Vec<String>>) -> PresentationOutcome {
        w.cancellable(w.share_pending(pin, choices)).await
    }
    /// "Tolak": `access_denied` to the verifier; history `presentation_declined`.
    fn decline_presentation(w) -> PresentationOutcome {
        w.cancellable(w.decline_pending()).await
    }
    fn settings(w) -> Settings {
        w.settings()
    }
    /// `backend_url` only changes in dev builds.
    fn set_settings(w, settings: Settings) -> Settings {
        w.set_settings(settings)
    }
    /// Fetches fresh credentials with the device token; both documents and the tokens
    /// are replaced in one transaction, or none.
    fn refresh_documents(w) -> () {
        w.cancellable(w.refresh_documents()).await
    }
    /// Lepas Perangkat: tells the backend, wipes local data (then stage `welcome`).
    fn release_device(w) -> AppState {
        w.cancellable(w.release_device()).await
    }
    /// Lupa PIN, or documents wiped after 10 wrong PINs: the backend revokes the
    /// device's tokens and mails a code (enrollment token + device-key proof); the
    /// answer carries the masked email, code expiry and tries left, and
    /// `AppState.pin_reset_pending` is then true. `onProgress` gets nothing yet: the
    /// selfie goes inline, and bytes handed to the connection are not bytes sent.
    fn forgot_pin(w, on_progress: Channel<UploadProgress>) -> EnrollmentView {
        drop(on_progress);
        w.cancellable(w.forgot_pin_counted(None)).await
    }
    /// Redeems the mailed code, downloads KTP and KK again (checked against the pinned
    /// issuer key) and holds them until `set_pin` replaces the old vault (then stage
    /// `needs_pin`).
    fn reset_pin_with_code(w, code: SecretString) -> AppState {
        w.cancellable(w.reset_pin_with_code(code)).await
    }
    /// Stops the network requests in flight (the resident left the screen): they end
    /// with `cancelled`; nothing half-done is kept, and the step's request (its
    /// idempotency key and body) stays for "Coba lagi".
    fn cancel_network(w) -> () {
        w.cancel_network();
        Ok(())
    }
    /// Keeps the registration form (sealed in the wallet's store) until it is submitted.
    fn save_draft(w, form: RegisterForm) -> () {
        w.save_draft(form)
    }
    /// The form and selfie kept since before a restart (until submitted).
    fn draft(w) -> Draft {
        w.draft()
    }
    /// Start over after `rejected` or `expired`.
    fn reset_enrollment(w) -> AppState {
        w.reset_enrollment()
    }
    /// "Periksa KTP": asks the configured verifier service for a request (`check`:
    /// `identitas`, `usia17`, `kk`) and its QR; errors `offline`, `timeout`.
    fn start_check(w, check: String) -> CheckRequestView {
        w.cancellable(w.start_check(&check)).await
    }
    /// The verifier's result so far (`status` `pending` until the other wallet answers);
    /// the first final one adds the history line "Anda memeriksa …".
    fn check_result(w, id: String) -> CheckResultView {
        w.cancellable(w.check_result(&id)).await
    }
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
