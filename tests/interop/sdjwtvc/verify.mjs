// A third-party SD-JWT VC verifier run against ikd-server's credentials.
//
// It uses @sd-jwt/sd-jwt-vc (OpenWallet Foundation) to verify the credential (issuer
// signature, every disclosure, the reserved claims, exp) and, through its
// @sd-jwt/jwt-status-list dependency, to fetch the Token Status List from the
// credential's `status.status_list.uri` (its own fetcher: Accept and Content-Type
// application/statuslist+jwt), verify that token and read the entry at `idx`.
// The issuer key is found as any relying party would: the credential's `iss`, its
// `/.well-known/jwt-vc-issuer` metadata, and the key whose `kid` is in the header.
//
// Input (stdin): { "credential": "<sd-jwt or presentation>" }
// Output (stdout, exit 0): { "header": {…}, "payload": {…}, "status": 0 }
// On failure: a message on stderr (with "status=N" when the list was read), exit 1.

import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { getListFromStatusListJWT } from '@sd-jwt/jwt-status-list';
import { ES256, digest } from '@sd-jwt/crypto-nodejs';

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function decodePart(jwt, i) {
  return JSON.parse(Buffer.from(jwt.split('.')[i], 'base64url').toString('utf8'));
}

/** The issuer key named by `kid`, from the SD-JWT VC issuer metadata of `iss`. */
async function issuerKey(iss, kid) {
  const url = new URL(iss);
  const path = url.pathname === '/' ? '' : url.pathname;
  const res = await fetch(`${url.origin}/.well-known/jwt-vc-issuer${path}`);
  if (!res.ok) throw new Error(`jwt-vc-issuer metadata: HTTP ${res.status}`);
  const meta = await res.json();
  if (meta.issuer !== iss) throw new Error('jwt-vc-issuer metadata is for another issuer');
  const jwk = (meta.jwks?.keys ?? []).find((k) => k.kid === kid);
  if (!jwk) throw new Error(`no key with kid ${kid} in the issuer metadata`);
  return jwk;
}

async function main() {
  const { credential } = JSON.parse(await readStdin());
  const jwt = credential.split('~')[0];
  const header = decodePart(jwt, 0);
  const { iss } = decodePart(jwt, 1);
  const jwk = await issuerKey(iss, header.kid);
  const verifier = await ES256.getVerifier(jwk);

  let seenStatus;
  let statusListKid;
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    verifier,
    statusVerifier: verifier,
    statusValidator: async (status) => {
      seenStatus = status;
      if (status !== 0) throw new Error(`credential status is not valid: status=${status}`);
    },
  });
  // Wrap the library's own fetcher to note the token's kid (it must be the issuer's).
  const fetchList = sdjwt.statusListFetcher.bind(sdjwt);
  sdjwt.userConfig.statusListFetcher = async (uri) => {
    const token = await fetchList(uri);
    statusListKid = decodePart(token, 0).kid;
    if (decodePart(token, 0).typ !== 'statuslist+jwt') throw new Error('status list typ');
    if (decodePart(token, 1).sub !== uri) throw new Error('status list sub is not its uri');
    getListFromStatusListJWT(token); // parses
    return token;
  };
  const result = await sdjwt.verify(credential);
  if (statusListKid !== header.kid) throw new Error('status list signed by another key');
  process.stdout.write(
    `${JSON.stringify({ header: result.header, payload: result.payload, status: seenStatus })}\n`,
  );
}

main().catch((e) => {
  process.stderr.write(`sd-jwt-vc: ${e?.name ?? 'Error'}: ${e?.message ?? e}\n`);
  process.exit(1);
});
