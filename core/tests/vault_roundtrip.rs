//! Vault round-trips, PIN change, KDF parameter changes, second device, redaction.
#![allow(clippy::unwrap_used)]

mod vault_common;

use ikd_core::clock::Clock;
use ikd_core::error::{ErrorCode, UiError};
use ikd_core::vault::envelope::Envelope;
use ikd_core::vault::KeyStore;
use ikd_core::vault::{self, KdfParams, MemoryKeyStore, Vault, VaultError};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use vault_common::*;

#[test]
fn create_put_get_across_restart() {
    let mut rig = Rig::new();
    let key = rig.vault.create(&pin(PIN)).unwrap();
    rig.vault
        .put_document(&key, "ktp", b"ktp credential")
        .unwrap();
    rig.vault
        .put_document(&key, "kk", b"kk credential")
        .unwrap();
    drop(key);
    rig.restart();
    assert!(rig.vault.exists().unwrap());
    let key = rig.vault.unlock(&secret(PIN)).unwrap();
    assert_eq!(
        rig.vault
            .get_document(&key, "ktp")
            .unwrap()
            .unwrap()
            .expose(),
        b"ktp credential"
    );
    assert_eq!(rig.vault.document_ids().unwrap(), vec!["kk", "ktp"]);
    assert!(rig.vault.get_document(&key, "none").unwrap().is_none());
    // Overwrite bumps the version.
    rig.vault.put_document(&key, "ktp", b"v2").unwrap();
    let rows = rig.document_rows();
    let ktp = rows.iter().find(|r| r.0 == "ktp").unwrap();
    assert_eq!(ktp.1, 2);
    assert_eq!(
        rig.vault
            .get_document(&key, "ktp")
            .unwrap()
            .unwrap()
            .expose(),
        b"v2"
    );
    assert!(rig.vault.delete_document("kk").unwrap());
    assert_eq!(rig.vault.document_ids().unwrap(), vec!["ktp"]);
}

#[test]
fn documents_are_not_stored_in_plaintext() {
    let rig = Rig::new();
    let key = rig.vault.create(&pin(PIN)).unwrap();
    rig.vault
        .put_document(&key, "ktp", b"NAMA: BUDI SANTOSO")
        .unwrap();
    drop(rig.vault);
    let file = std::fs::read(&rig.db).unwrap();
    let wal = std::fs::read(rig.db.with_extension("sqlite3-wal")).unwrap_or_default();
    for bytes in [file, wal] {
        assert!(!bytes.windows(11).any(|w| w == b"BUDI SANTOS"));
    }
}

#[test]
fn invalid_ids_and_missing_vault() {
    let rig = Rig::new();
    assert!(matches!(
        rig.vault.unlock(&secret(PIN)),
        Err(VaultError::NotCreated)
    ));
    let key = rig.vault.create(&pin(PIN)).unwrap();
    assert!(matches!(
        rig.vault.put_document(&key, "", b"x"),
        Err(VaultError::InvalidId)
    ));
    let long = "x".repeat(vault::MAX_ID_LEN + 1);
    assert!(matches!(
        rig.vault.get_document(&key, &long),
        Err(VaultError::InvalidId)
    ));
    // A malformed PIN is refused by shape and does not count as an attempt.
    assert!(matches!(
        rig.vault.unlock(&secret("12ab56")),
        Err(VaultError::Pin(vault::PinError::Length))
    ));
    assert_eq!(rig.vault.lockout_state().unwrap().failures, 0);
}

#[test]
fn change_pin_rotates_the_document_key() {
    let rig = Rig::new();
    let key = rig.vault.create(&pin(PIN)).unwrap();
    for i in 0..5 {
        rig.vault
            .put_document(&key, &format!("doc{i}"), &vec![i; 1000])
            .unwrap();
    }
    let before = rig.document_rows();
    let env_before = rig.envelope_bytes();
    rig.vault.change_pin(&secret(PIN), &pin(PIN2)).unwrap();
    let after = rig.document_rows();
    assert_eq!(after.len(), before.len());
    for (a, b) in after.iter().zip(&before) {
        assert_eq!(a.0, b.0);
        assert_eq!(a.1, b.1 + 1, "each version goes up by one");
        assert_ne!(a.3, b.3, "re-encrypted under the new key");
    }
    assert_ne!(rig.envelope_bytes(), env_before);
    assert!(matches!(
        rig.vault.unlock(&secret(PIN)),
        Err(VaultError::WrongPin(_))
    ));
    let key2 = rig.vault.unlock(&secret(PIN2)).unwrap();
    assert_eq!(
        rig.vault
            .get_document(&key2, "doc3")
            .unwrap()
            .unwrap()
            .expose(),
        &vec![3u8; 1000]
    );
    // Changing with the wrong old PIN counts as a failure.
    assert!(matches!(
        rig.vault.change_pin(&secret(PIN), &pin("135790")),
        Err(VaultError::WrongPin(v)) if v.failures == 1
    ));
}

/// Issue 11 item 7: an old envelope (a backup, a restored database) with the old PIN
/// opens the old document key, which opens none of today's documents. Before the fix
/// `change_pin` re-wrapped the same key, so the old envelope opened everything.
#[test]
fn old_envelope_with_old_pin_opens_no_document_after_change_pin() {
    let rig = Rig::new();
    let key = rig.vault.create(&pin(PIN)).unwrap();
    rig.vault.put_document(&key, "ktp", b"today's KTP").unwrap();
    let old_envelope = rig.envelope_bytes();
    rig.vault.change_pin(&secret(PIN), &pin(PIN2)).unwrap();
    // The attacker puts the old envelope back and uses the old PIN.
    rig.raw()
        .execute("UPDATE envelope SET data = ?1", [&old_envelope])
        .unwrap();
    let old_key = rig.vault.unlock(&secret(PIN)).unwrap();
    assert!(matches!(
        rig.vault.get_document(&old_key, "ktp"),
        Err(VaultError::Corrupt)
    ));
}

#[test]
fn vault_made_with_old_params_opens_and_is_rewrapped() {
    let rig = Rig::new();
    let a = KdfParams::insecure_for_tests_with(64, 1, 1);
    let b = KdfParams::insecure_for_tests_with(128, 2, 1);
    let store = rig.vault.store().clone();
    let va = Vault::new(store.clone(), rig.keystore.clone(), rig.clock.clone()).with_kdf_params(a);
    let key = va.create(&pin(PIN)).unwrap();
    va.put_document(&key, "ktp", b"doc").unwrap();
    drop(key);

    // The default moved on to B: the old vault still opens with its stored params…
    let vb = Vault::new(store, rig.keystore.clone(), rig.clock.clone()).with_kdf_params(b);
    assert!(vb.needs_rewrap().unwrap());
    let ds = vault::keystore::existing_device_secret(rig.keystore.as_ref())
        .unwrap()
        .unwrap();
    let env = Envelope::parse(&rig.envelope_bytes(), &ds).unwrap();
    assert!(env.kdf.same_cost(&a));
    let key = vb.unlock(&secret(PIN)).unwrap();
    assert_eq!(
        vb.get_document(&key, "ktp").unwrap().unwrap().expose(),
        b"doc"
    );
    // …and is re-wrapped with B on that unlock.
    let env = Envelope::parse(&rig.envelope_bytes(), &ds).unwrap();
    assert!(env.kdf.same_cost(&b));
    assert!(!vb.needs_rewrap().unwrap());
    drop(key);
    let key = vb.unlock(&secret(PIN)).unwrap();
    assert_eq!(
        vb.get_document(&key, "ktp").unwrap().unwrap().expose(),
        b"doc"
    );
}

#[test]
fn old_vault_opens_with_production_default() {
    // Created cheaply, opened by a vault configured with the real default: it opens
    // with the stored parameters, then re-wraps at the floor.
    let rig = Rig::new();
    rig.vault.create(&pin(PIN)).unwrap();
    let prod = Vault::new(
        rig.vault.store().clone(),
        rig.keystore.clone(),
        rig.clock.clone(),
    );
    assert_eq!(prod.kdf_params(), KdfParams::default());
    assert!(prod.needs_rewrap().unwrap());
    prod.unlock(&secret(PIN)).unwrap();
    assert!(!prod.needs_rewrap().unwrap());
}

#[test]
fn weak_params_are_refused_for_new_vaults() {
    let rig = Rig::new();
    let weak = Vault::new(
        rig.vault.store().clone(),
        rig.keystore.clone(),
        rig.clock.clone(),
    )
    .with_kdf_params(KdfParams::new(1024, 1, 1));
    assert!(matches!(
        weak.create(&pin(PIN)),
        Err(VaultError::WeakKdfParams)
    ));
    assert!(!rig.vault.exists().unwrap());
}

#[test]
fn second_device_cannot_open_even_with_the_right_pin() {
    let rig = Rig::new();
    let key = rig.vault.create(&pin(PIN)).unwrap();
    rig.vault.put_document(&key, "ktp", b"doc").unwrap();
    drop(key);
    drop(rig.vault);
    let copy = rig.dir.path().join("other-device.sqlite3");
    std::fs::copy(&rig.db, &copy).unwrap();
    let other_ks = Arc::new(MemoryKeyStore::new());
    // The other device has its own device secret.
    vault::device_secret(other_ks.as_ref()).unwrap();
    let other = open_vault(&copy, other_ks.clone(), rig.clock.clone());
    let e = other.unlock(&secret(PIN)).unwrap_err();
    assert!(matches!(e, VaultError::Corrupt), "{e:?}");
    // It costs no attempt, and a device without any secret is refused the same way.
    assert_eq!(other.lockout_state().unwrap().failures, 0);
    let bare = open_vault(&copy, Arc::new(MemoryKeyStore::new()), rig.clock.clone());
    assert!(matches!(
        bare.unlock(&secret(PIN)),
        Err(VaultError::Corrupt)
    ));
    // The original device still opens its own file.
    let orig = open_vault(&rig.db, rig.keystore.clone(), rig.clock.clone());
    orig.unlock(&secret(PIN)).unwrap();
}

#[test]
fn debug_of_secret_holding_types_shows_no_secret() {
    let rig = Rig::new();
    let p = pin(PIN);
    let key = rig.vault.create(&p).unwrap();
    let ds = vault::keystore::existing_device_secret(rig.keystore.as_ref())
        .unwrap()
        .unwrap();
    let env = Envelope::parse(&rig.envelope_bytes(), &ds).unwrap();
    let doc = {
        rig.vault.put_document(&key, "ktp", b"SECRETDOC").unwrap();
        rig.vault.get_document(&key, "ktp").unwrap().unwrap()
    };
    let session = vault::Session::new(rig.vault.unlock(&secret(PIN)).unwrap(), rig.clock.now());
    let fks = vault::FileKeyStore::in_dir(rig.dir.path());
    fks.put("k", &ds).unwrap();
    let all = format!(
        "{p:?} {key:?} {env:?} {doc:?} {session:?} {:?} {:?} {fks:?} {ds:?} {:?}",
        rig.vault,
        rig.keystore,
        secret(PIN)
    );
    assert!(!all.contains(PIN), "{all}");
    assert!(!all.contains("SECRETDOC"));
    let ds_dbg = format!("{:?}", ds.expose());
    assert!(!all.contains(&ds_dbg[1..ds_dbg.len() - 1]));
}

#[test]
fn errors_map_to_stable_ui_codes() {
    let rig = Rig::new();
    rig.vault.create(&pin(PIN)).unwrap();
    let e: UiError = rig.vault.unlock(&secret(PIN2)).unwrap_err().into();
    assert_eq!(e.code, ErrorCode::WrongPin);
    let d = e.detail.unwrap();
    assert_eq!(d["failures"], 1);
    assert_eq!(d["attempts_left"], 9);
    assert!(!e.message.contains(PIN2));
    let e: UiError = VaultError::Corrupt.into();
    assert_eq!(e.code, ErrorCode::VaultCorrupt);
    let e: UiError = VaultError::Wiped.into();
    assert_eq!(e.code, ErrorCode::VaultWiped);
    let e: UiError = VaultError::Pin(vault::PinError::BirthDate).into();
    assert_eq!(e.code, ErrorCode::PinPolicy);
    assert_eq!(e.detail.unwrap()["reason"], "birth_date");
}

fn pin_strategy() -> impl Strategy<Value = String> {
    "[0-9]{6}".prop_filter("policy", |p| {
        ikd_core::vault::pin::check_policy(p, None).is_ok()
    })
}

#[derive(Debug, Clone)]
enum Op {
    Put(String, Vec<u8>),
    ChangePin(String),
    Reopen,
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => ("[a-z0-9._-]{1,12}", proptest::collection::vec(any::<u8>(), 0..2048))
            .prop_map(|(id, d)| Op::Put(id, d)),
        1 => pin_strategy().prop_map(Op::ChangePin),
        1 => Just(Op::Reopen),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn random_documents_and_pin_changes_round_trip(
        first in pin_strategy(),
        ops in proptest::collection::vec(op_strategy(), 1..12),
    ) {
        let mut rig = Rig::new();
        let mut current = first.clone();
        let mut key = rig.vault.create(&pin(&first)).unwrap();
        let mut model: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Put(id, data) => {
                    rig.vault.put_document(&key, &id, &data).unwrap();
                    model.insert(id, data);
                }
                Op::ChangePin(new) => {
                    key = rig.vault.change_pin(&secret(&current), &pin(&new)).unwrap();
                    current = new;
                }
                Op::Reopen => {
                    drop(key);
                    rig.restart();
                    key = rig.vault.unlock(&secret(&current)).unwrap();
                }
            }
        }
        drop(key);
        rig.restart();
        let key = rig.vault.unlock(&secret(&current)).unwrap();
        prop_assert_eq!(rig.vault.document_ids().unwrap(), model.keys().cloned().collect::<Vec<_>>());
        for (id, data) in &model {
            let got = rig.vault.get_document(&key, id).unwrap().unwrap();
            prop_assert_eq!(got.expose(), data);
        }
    }
}

#[test]
fn vault_and_store_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Vault>();
    assert_send_sync::<ikd_core::store::Store>();
    assert_send_sync::<vault::FileKeyStore>();
}
