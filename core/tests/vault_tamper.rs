//! Tampering with stored bytes gives a typed error, never wrong data, never a panic.
#![allow(clippy::unwrap_used)]

mod vault_common;

use ikd_core::vault::VaultError;
use proptest::prelude::*;
use rusqlite::params;
use vault_common::*;

fn setup() -> Rig {
    let rig = Rig::new();
    let key = rig.vault.create(&pin(PIN)).unwrap();
    rig.vault
        .put_document(&key, "ktp", b"ktp document")
        .unwrap();
    rig.vault.put_document(&key, "kk", b"kk document").unwrap();
    rig
}

fn exec(rig: &Rig, sql: &str, p: impl rusqlite::Params) {
    rig.raw().execute(sql, p).unwrap();
}

#[test]
fn tampered_ciphertext_is_corrupt() {
    let rig = setup();
    let key = rig.vault.unlock(&secret(PIN)).unwrap();
    let (_, _, _, mut ct) = rig
        .document_rows()
        .into_iter()
        .find(|r| r.0 == "ktp")
        .unwrap();
    let n = ct.len();
    ct[n / 2] ^= 0x01;
    exec(
        &rig,
        "UPDATE documents SET ciphertext = ?1 WHERE id = 'ktp'",
        params![ct],
    );
    assert!(matches!(
        rig.vault.get_document(&key, "ktp"),
        Err(VaultError::Corrupt)
    ));
    // The other record is fine.
    assert_eq!(
        rig.vault
            .get_document(&key, "kk")
            .unwrap()
            .unwrap()
            .expose(),
        b"kk document"
    );
}

#[test]
fn tampered_format_byte_nonce_version_are_corrupt() {
    let rig = setup();
    let key = rig.vault.unlock(&secret(PIN)).unwrap();
    let rows = rig.document_rows();
    let (_, _, nonce, ct) = rows.iter().find(|r| r.0 == "ktp").unwrap().clone();

    let mut bad = ct.clone();
    bad[0] = 2;
    exec(
        &rig,
        "UPDATE documents SET ciphertext = ?1 WHERE id = 'ktp'",
        params![bad],
    );
    assert!(matches!(
        rig.vault.get_document(&key, "ktp"),
        Err(VaultError::Corrupt)
    ));
    exec(
        &rig,
        "UPDATE documents SET ciphertext = ?1 WHERE id = 'ktp'",
        params![ct],
    );

    let mut n2 = nonce.clone();
    n2[0] ^= 0x80;
    exec(
        &rig,
        "UPDATE documents SET nonce = ?1 WHERE id = 'ktp'",
        params![n2],
    );
    assert!(matches!(
        rig.vault.get_document(&key, "ktp"),
        Err(VaultError::Corrupt)
    ));
    exec(
        &rig,
        "UPDATE documents SET nonce = ?1 WHERE id = 'ktp'",
        params![vec![0u8; 5]],
    );
    assert!(matches!(
        rig.vault.get_document(&key, "ktp"),
        Err(VaultError::Corrupt)
    ));
    exec(
        &rig,
        "UPDATE documents SET nonce = ?1 WHERE id = 'ktp'",
        params![nonce],
    );

    exec(
        &rig,
        "UPDATE documents SET version = version + 1 WHERE id = 'ktp'",
        [],
    );
    assert!(matches!(
        rig.vault.get_document(&key, "ktp"),
        Err(VaultError::Corrupt)
    ));
    exec(
        &rig,
        "UPDATE documents SET version = -5 WHERE id = 'ktp'",
        [],
    );
    assert!(rig.vault.get_document(&key, "ktp").is_err());
    exec(
        &rig,
        "UPDATE documents SET version = 1 WHERE id = 'ktp'",
        [],
    );
    assert_eq!(
        rig.vault
            .get_document(&key, "ktp")
            .unwrap()
            .unwrap()
            .expose(),
        b"ktp document"
    );
}

#[test]
fn swapped_records_are_corrupt() {
    let rig = setup();
    let key = rig.vault.unlock(&secret(PIN)).unwrap();
    let rows = rig.document_rows();
    let kk = rows.iter().find(|r| r.0 == "kk").unwrap().clone();
    exec(
        &rig,
        "UPDATE documents SET version = ?1, nonce = ?2, ciphertext = ?3 WHERE id = 'ktp'",
        params![kk.1, kk.2, kk.3],
    );
    assert!(matches!(
        rig.vault.get_document(&key, "ktp"),
        Err(VaultError::Corrupt)
    ));
}

#[test]
fn tampered_envelope_is_corrupt_and_costs_no_attempt() {
    let rig = setup();
    let env = rig.envelope_bytes();
    for i in [0, 5, 8, 18, 25, 40, env.len() - 40, env.len() - 1] {
        let mut t = env.clone();
        t[i] ^= 0x04;
        exec(&rig, "UPDATE envelope SET data = ?1", params![t]);
        let e = rig.vault.unlock(&secret(PIN)).unwrap_err();
        assert!(matches!(e, VaultError::Corrupt), "byte {i}: {e:?}");
    }
    exec(&rig, "UPDATE envelope SET data = ?1", params![vec![0u8; 3]]);
    assert!(matches!(
        rig.vault.unlock(&secret(PIN)),
        Err(VaultError::Corrupt)
    ));
    assert_eq!(rig.vault.lockout_state().unwrap().failures, 0);
    exec(&rig, "UPDATE envelope SET data = ?1", params![env]);
    rig.vault.unlock(&secret(PIN)).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    #[test]
    fn random_ciphertext_edits_never_yield_data(pos in any::<prop::sample::Index>(), xor in 1u8..=255, cut in any::<bool>()) {
        let rig = setup();
        let key = rig.vault.unlock(&secret(PIN)).unwrap();
        let (_, _, _, mut ct) = rig.document_rows().into_iter().find(|r| r.0 == "ktp").unwrap();
        if cut {
            ct.truncate(pos.index(ct.len()));
        } else {
            let i = pos.index(ct.len());
            ct[i] ^= xor;
        }
        exec(&rig, "UPDATE documents SET ciphertext = ?1 WHERE id = 'ktp'", params![ct]);
        prop_assert!(matches!(rig.vault.get_document(&key, "ktp"), Err(VaultError::Corrupt)));
    }
}
