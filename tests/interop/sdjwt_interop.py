#!/usr/bin/env python3
"""Interop driver: the OpenWallet Foundation `sd-jwt` Python library against ikd-core.

Subcommands (all output JSON or an SD-JWT on stdout; errors go to stderr, exit 1):

  verify  --issuer-jwk JWK            SD-JWT on stdin. Verifies it with the pinned issuer
          [--aud AUD --nonce NONCE]   key and prints {"header": ..., "claims": ...}. With
                                      --aud/--nonce the KB-JWT is required and verified.
  issue   --issuer-pkcs8 B64URL       Issues an SD-JWT VC (typ dc+sd-jwt, ES256) with the
          --holder-jwk JWK            given P-256 PKCS#8 key. --claims are made selectively
          --claims JSON               disclosable; --plain stay in the clear; arrays named in
          --plain JSON                --array-elements have each element disclosable instead.
          [--array-elements a,b]      --decoys adds decoy digests.
          [--decoys]
  present --holder-pkcs8 B64URL       SD-JWT on stdin. Makes a presentation disclosing
          --disclose JSON             --disclose (sd_jwt holder syntax) with a KB-JWT
          --aud AUD --nonce NONCE     (kb+jwt) signed by the holder key.

Install with: pip install -r tests/interop/requirements.txt
"""

import argparse
import base64
import json
import sys

try:
    from cryptography.hazmat.primitives.serialization import load_der_private_key
    from jwcrypto.jwk import JWK
    from sd_jwt.common import SDObj
    from sd_jwt.holder import SDJWTHolder
    from sd_jwt.issuer import SDJWTIssuer
    from sd_jwt.verifier import SDJWTVerifier
except ImportError as e:  # pragma: no cover - reported to the Rust test
    print(
        f"MISSING_DEPENDENCY: {e}. Run: pip install -r tests/interop/requirements.txt",
        file=sys.stderr,
    )
    sys.exit(3)


def b64u_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def key_from_pkcs8(b64u: str) -> JWK:
    return JWK.from_pyca(load_der_private_key(b64u_decode(b64u), password=None))


def cmd_verify(args):
    sd_jwt = sys.stdin.read().strip()
    issuer_key = JWK(**json.loads(args.issuer_jwk))
    verifier = SDJWTVerifier(
        sd_jwt,
        lambda _iss, _header: issuer_key,
        expected_aud=args.aud,
        expected_nonce=args.nonce,
    )
    claims = verifier.get_verified_payload()
    header_b64 = sd_jwt.split("~", 1)[0].split(".", 1)[0]
    header = json.loads(b64u_decode(header_b64))
    json.dump({"header": header, "claims": claims}, sys.stdout)


def cmd_issue(args):
    issuer_key = key_from_pkcs8(args.issuer_pkcs8)
    holder_key = JWK(**json.loads(args.holder_jwk))
    arrays = {a for a in args.array_elements.split(",") if a}
    user_claims = dict(json.loads(args.plain))
    for name, value in json.loads(args.claims).items():
        if name in arrays:
            user_claims[name] = [SDObj(v) for v in value]
        else:
            user_claims[SDObj(name)] = value
    issuer = SDJWTIssuer(
        user_claims,
        issuer_key,
        holder_key=holder_key,
        sign_alg="ES256",
        add_decoy_claims=args.decoys,
        extra_header_parameters={"typ": "dc+sd-jwt"},
    )
    sys.stdout.write(issuer.sd_jwt_issuance)


def cmd_present(args):
    sd_jwt = sys.stdin.read().strip()
    holder_key = key_from_pkcs8(args.holder_pkcs8)
    holder = SDJWTHolder(sd_jwt)
    holder.create_presentation(
        json.loads(args.disclose),
        nonce=args.nonce,
        aud=args.aud,
        holder_key=holder_key,
        sign_alg="ES256",
    )
    sys.stdout.write(holder.sd_jwt_presentation)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify")
    v.add_argument("--issuer-jwk", required=True)
    v.add_argument("--aud")
    v.add_argument("--nonce")
    i = sub.add_parser("issue")
    i.add_argument("--issuer-pkcs8", required=True)
    i.add_argument("--holder-jwk", required=True)
    i.add_argument("--claims", required=True)
    i.add_argument("--plain", default="{}")
    i.add_argument("--array-elements", default="")
    i.add_argument("--decoys", action="store_true")
    pr = sub.add_parser("present")
    pr.add_argument("--holder-pkcs8", required=True)
    pr.add_argument("--disclose", required=True)
    pr.add_argument("--aud", required=True)
    pr.add_argument("--nonce", required=True)
    args = p.parse_args()
    try:
        {"verify": cmd_verify, "issue": cmd_issue, "present": cmd_present}[args.cmd](args)
    except Exception as e:  # report any library rejection as a clean failure
        print(f"ERROR: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
