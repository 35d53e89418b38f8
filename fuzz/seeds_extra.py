#!/usr/bin/env python3
"""Seeds for the desk_qr and credential_offer targets (run from fuzz/; called by
`scripts/fuzz --seeds`). The desk QR key is the fuzz target's fixed test key."""
import base64, hashlib, hmac, os, struct, urllib.parse

KEY = b"ikd fuzz desk qr key (test only)"
NOW = 1_800_000_000


def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def qr(desk: str, nonce: str, exp: int) -> str:
    payload = f"IKD1.{desk}.{nonce}.{exp}"
    mac = b64url(hmac.new(KEY, payload.encode(), hashlib.sha256).digest()[:16])
    return b64url(f"{payload}.{mac}".encode())


def write(target: str, name: str, data: bytes) -> None:
    d = os.path.join("corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# desk_qr: mode byte 0 = verify the text as is; 1 = make(desk, nonce, offset) + edit.
write("desk_qr", "valid", b"\x00" + qr("desk-1", "n0nce", NOW + 60).encode())
write("desk_qr", "expired", b"\x00" + qr("desk-1", "n0nce", NOW - 1).encode())
write("desk_qr", "five-parts", b"\x00" + qr("desk.1", "n0nce", NOW + 60).encode())
write("desk_qr", "spaces", b"\x00  " + qr("desk-2", "abc", NOW + 90).encode() + b"\n")
write("desk_qr", "bad-mac", b"\x00" + b64url(b"IKD1.desk-1.n.1800000060.AAAAAAAAAAAAAAAAAAAAAA").encode())
write("desk_qr", "not-b64", b"\x00IKD1.desk-1.n.1800000060.x")
write("desk_qr", "make", b"\x01desk-1\x00n0nce\x00" + struct.pack("<i", 60))
write("desk_qr", "make-edit", b"\x01desk-1\x00n0nce\x00" + struct.pack("<i", 60) + b"\x00\x05\x00A")
write("desk_qr", "make-expired", b"\x01d\x00n\x00" + struct.pack("<i", -5))

# credential_offer: JSON objects and offer URIs.
offer = ('{"credential_issuer":"https://ikd.example.go.id","credential_configuration_ids":["ktp","kk"],'
         '"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"abc",'
         '"tx_code":{"input_mode":"numeric","length":6,"description":"Kode dari email"}}}}')
plain = ('{"credential_issuer":"https://i","credential_configuration_ids":[],'
         '"grants":{"urn:ietf:params:oauth:grant-type:pre-authorized_code":{"pre-authorized_code":"x","tx_code":null}}}')
write("credential_offer", "json", offer.encode())
write("credential_offer", "json-min", plain.encode())
write("credential_offer", "json-nogrant", b'{"credential_issuer":"https://i","credential_configuration_ids":["ktp"],"grants":{}}')
write("credential_offer", "uri", ("openid-credential-offer://?credential_offer=" + urllib.parse.quote_plus(offer)).encode())
write("credential_offer", "uri-pct", ("openid-credential-offer://?credential_offer=" + urllib.parse.quote(plain, safe="")).encode())
write("credential_offer", "uri-other", b"openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fi%2Fo")
write("credential_offer", "https", ("https://x/?credential_offer=" + urllib.parse.quote_plus(plain)).encode())
write("credential_offer", "ws", ("  \n" + offer + " \t").encode())
