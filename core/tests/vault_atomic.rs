//! The vault's multi-write operations with the caller's writes in the same transaction:
//! a failure anywhere leaves the store exactly as it was.
#![allow(clippy::unwrap_used)]

mod vault_common;

use ikd_core::vault::VaultError;
use vault_common::*;

fn injected() -> VaultError {
    VaultError::Corrupt
}

#[test]
fn create_with_stores_documents_and_the_callers_rows_together() {
    let mut rig = Rig::new();
    let key = rig
        .vault
        .create_with(&pin(PIN), &[("ktp", b"k1"), ("kk", b"f1")], |c| {
            c.execute("INSERT INTO kv (key, value) VALUES ('caller', 'done')", [])
                .map_err(|e| VaultError::Store(e.into()))?;
            Ok(())
        })
        .unwrap();
    assert_eq!(
        rig.vault
            .get_document(&key, "kk")
            .unwrap()
            .unwrap()
            .expose(),
        b"f1"
    );
    rig.restart();
    assert_eq!(
        rig.vault.store().get_kv("caller").unwrap().as_deref(),
        Some("done")
    );
    let key = rig.vault.unlock(&secret(PIN)).unwrap();
    assert_eq!(
        rig.vault
            .get_document(&key, "ktp")
            .unwrap()
            .unwrap()
            .expose(),
        b"k1"
    );
}

#[test]
fn a_failure_in_create_with_leaves_no_vault_and_no_documents() {
    let mut rig = Rig::new();
    let e = rig
        .vault
        .create_with(&pin(PIN), &[("ktp", b"k1"), ("kk", b"f1")], |c| {
            c.execute("INSERT INTO kv (key, value) VALUES ('caller', 'x')", [])
                .map_err(|e| VaultError::Store(e.into()))?;
            Err(injected())
        })
        .unwrap_err();
    assert!(matches!(e, VaultError::Corrupt));
    rig.restart();
    assert!(!rig.vault.exists().unwrap());
    assert!(rig.vault.document_ids().unwrap().is_empty());
    assert_eq!(rig.vault.store().get_kv("caller").unwrap(), None);
    // Simply again: now it works.
    rig.vault
        .create_with(&pin(PIN), &[("ktp", b"k1")], |_| Ok(()))
        .unwrap();
    assert!(rig.vault.exists().unwrap());
}

#[test]
fn a_failure_in_put_documents_keeps_every_old_document() {
    let mut rig = Rig::new();
    let key = rig
        .vault
        .create_with(&pin(PIN), &[("ktp", b"k1"), ("kk", b"f1")], |_| Ok(()))
        .unwrap();
    let e = rig
        .vault
        .put_documents(&key, &[("ktp", b"k2"), ("kk", b"f2")], |_| Err(injected()))
        .unwrap_err();
    assert!(matches!(e, VaultError::Corrupt));
    rig.restart();
    let key = rig.vault.unlock(&secret(PIN)).unwrap();
    for (id, want) in [("ktp", b"k1"), ("kk", b"f1")] {
        assert_eq!(
            rig.vault.get_document(&key, id).unwrap().unwrap().expose(),
            want
        );
    }
    assert!(rig.document_rows().iter().all(|r| r.1 == 1));
    rig.vault
        .put_documents(&key, &[("ktp", b"k2"), ("kk", b"f2")], |_| Ok(()))
        .unwrap();
    assert!(rig.document_rows().iter().all(|r| r.1 == 2));
}

#[test]
fn a_failure_in_change_pin_with_keeps_the_old_pin() {
    let mut rig = Rig::new();
    rig.vault.create(&pin(PIN)).unwrap();
    let e = rig
        .vault
        .change_pin_with(&secret(PIN), &pin(PIN2), |_| Err(injected()))
        .unwrap_err();
    assert!(matches!(e, VaultError::Corrupt));
    rig.restart();
    rig.vault.unlock(&secret(PIN)).unwrap();
    assert!(rig.vault.unlock(&secret(PIN2)).is_err());
}
