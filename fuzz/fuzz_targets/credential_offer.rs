//! The client's credential-offer parser (`ikd_core::client::parse_credential_offer`)
//! on arbitrary text: a JSON object or an `openid-credential-offer://` URI. An offer
//! that parses must survive a round trip through JSON and through the URI form.
#![no_main]

use ikd_core::client::parse_credential_offer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let Ok(offer) = parse_credential_offer(&s) else {
        return;
    };
    let json = serde_json::to_string(&offer).expect("an offer serialises");
    let again = parse_credential_offer(&json).expect("a serialised offer parses");
    assert_eq!(again, offer, "JSON round trip changed the offer");
    let uri = format!(
        "openid-credential-offer://?credential_offer={}",
        url::form_urlencoded::byte_serialize(json.as_bytes()).collect::<String>()
    );
    let via_uri = parse_credential_offer(&uri).expect("an offer URI parses");
    assert_eq!(via_uri, offer, "URI round trip changed the offer");
});
