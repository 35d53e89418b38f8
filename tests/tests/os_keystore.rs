//! The desktop key store against a real Secret Service (gnome-keyring-daemon on a
//! private D-Bus session bus, `ikd_tests::secret_service`).
//!
//! The Secret Service client (libdbus) reads `DBUS_SESSION_BUS_ADDRESS` once per
//! process, so the tests here share one Secret Service; each uses its own data folder,
//! and so its own items.
#![allow(clippy::unwrap_used)]

use chrono::{TimeZone, Utc};
use ikd_core::clock::ManualClock;
use ikd_core::secret::{SecretBytes, SecretString};
use ikd_core::store::Store;
use ikd_core::vault::keystore::{
    open_desktop_keystore, DesktopKeyStorePaths, OsKeyStore, DEVICE_SECRET, SERVICE,
};
use ikd_core::vault::{
    device_secret, FileKeyStore, KdfParams, KeyStore, KeyStoreKind, Pin, Vault, VaultError,
};
use ikd_tests::secret_service::SecretService;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const PIN: &str = "246813";
const DB: &str = "ikd-wallet.sqlite3";

/// The running Secret Service that this process's key-store calls go to.
fn secret_service() -> &'static SecretService {
    SecretService::shared()
}

fn paths(data_dir: &Path) -> DesktopKeyStorePaths {
    let mut name = data_dir.file_name().unwrap().to_os_string();
    name.push(".keystore");
    DesktopKeyStorePaths {
        data_dir: data_dir.to_path_buf(),
        fallback_dir: data_dir.with_file_name(name),
    }
}

/// The key store the desktop app opens for `data_dir`.
fn app_keystore(data_dir: &Path) -> Arc<dyn KeyStore> {
    open_desktop_keystore(&paths(data_dir), OsKeyStore::connect(data_dir)).unwrap()
}

fn vault(data_dir: &Path, ks: Arc<dyn KeyStore>) -> Vault {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap(),
    ));
    let store = Arc::new(Store::open(data_dir.join(DB)).unwrap());
    Vault::new(store, ks, clock).with_kdf_params(KdfParams::insecure_for_tests())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(files_under(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn os_key_store_keeps_secrets_in_the_real_secret_service() {
    let ss = secret_service();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("app");
    let ks = app_keystore(&data);
    assert_eq!(ks.kind(), KeyStoreKind::Os);
    assert!(ks.get("a").unwrap().is_none());
    ks.put("a", &SecretBytes::new(vec![0, 1, 2, 255])).unwrap();
    assert_eq!(ks.get("a").unwrap().unwrap().expose(), &vec![0, 1, 2, 255]);
    ks.put("a", &SecretBytes::new(vec![7])).unwrap();
    assert_eq!(ks.get("a").unwrap().unwrap().expose(), &vec![7]);
    let s = device_secret(ks.as_ref()).unwrap();
    assert_eq!(s.expose().len(), 32);
    // It is in the Secret Service, and nowhere in the data folder or a fallback file.
    let os = OsKeyStore::connect(&data).unwrap();
    for name in ["a", DEVICE_SECRET] {
        let account = os.account(name);
        let attrs = [("service", SERVICE), ("username", account.as_str())];
        assert_eq!(ss.items_with(&attrs), 1, "{name}");
    }
    assert!(!paths(&data).fallback_file().exists());
    for f in files_under(&data) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(32).any(|w| w == s.expose().as_slice()),
            "{f:?} holds the device secret"
        );
    }
    // Another process (a restart) reads the same secret.
    let again = app_keystore(&data);
    assert_eq!(device_secret(again.as_ref()).unwrap(), s);
    ks.delete("a").unwrap();
    ks.delete("a").unwrap();
    assert!(ks.get("a").unwrap().is_none());
    assert!(matches!(
        ks.get("bad=name"),
        Err(ikd_core::vault::KeyStoreError::InvalidName)
    ));
}

#[test]
fn a_file_from_an_older_version_moves_into_the_secret_service() {
    secret_service();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("app");
    // Versions before the OS key store kept the file in the data folder.
    let old = FileKeyStore::in_dir(&data);
    let s = device_secret(&old).unwrap();
    let ks = app_keystore(&data);
    assert_eq!(ks.kind(), KeyStoreKind::Os);
    assert_eq!(ks.get(DEVICE_SECRET).unwrap().unwrap(), s);
    assert!(!data.join("keystore").exists());
}

/// Issue 11 item 1: with the app's key store, a copy of the data folder (a backup, a
/// roaming profile) holds no device secret, so the right PIN does not open it. With
/// the store the app used before (`FileKeyStore::in_dir(data_dir)`) it did.
#[test]
fn copied_data_folder_with_the_right_pin_cannot_be_opened() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("app");
    let backup = dir.path().join("backup");
    secret_service();
    let v = vault(&data, app_keystore(&data));
    let key = v.create(&Pin::new(PIN, None).unwrap()).unwrap();
    v.put_document(&key, "ktp", b"the KTP").unwrap();
    drop(v);
    copy_dir(&data, &backup);
    assert!(!files_under(&backup).iter().any(|f| f.ends_with("keystore")));

    // The copy opened elsewhere on this machine (another folder: other items).
    let other = dir.path().join("elsewhere");
    copy_dir(&backup, &other);
    let v = vault(&other, app_keystore(&other));
    let e = v.unlock(&SecretString::new(PIN.into())).unwrap_err();
    assert!(matches!(e, VaultError::Corrupt), "{e:?}");

    // The original still opens.
    let v = vault(&data, app_keystore(&data));
    let key = v.unlock(&SecretString::new(PIN.into())).unwrap();
    assert_eq!(
        v.get_document(&key, "ktp").unwrap().unwrap().expose(),
        b"the KTP"
    );
    drop(v);

    // Another machine: the backup restored at the same path, with a key ring that
    // does not hold this folder's device secret (here: the item deleted).
    OsKeyStore::connect(&data)
        .unwrap()
        .delete(DEVICE_SECRET)
        .unwrap();
    std::fs::remove_dir_all(&data).unwrap();
    copy_dir(&backup, &data);
    let v = vault(&data, app_keystore(&data));
    let e = v.unlock(&SecretString::new(PIN.into())).unwrap_err();
    assert!(matches!(e, VaultError::Corrupt), "{e:?}");

    // What the app did before: the secret sat in the data folder, so the copy opened.
    let before = dir.path().join("before");
    let v = vault(&before, Arc::new(FileKeyStore::in_dir(&before)));
    v.create(&Pin::new(PIN, None).unwrap()).unwrap();
    drop(v);
    let before_copy = dir.path().join("before-copy");
    copy_dir(&before, &before_copy);
    let v = vault(&before_copy, Arc::new(FileKeyStore::in_dir(&before_copy)));
    assert!(v.unlock(&SecretString::new(PIN.into())).is_ok());
}
