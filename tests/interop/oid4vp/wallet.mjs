// A third-party OpenID4VP 1.0 wallet that presents to ikd-verifier.
//
// Built on @openid4vc/openid4vp (parse the openid4vp:// link, fetch and verify the
// signed request object with its x5c and x509_hash client id, build and submit the
// direct_post / direct_post.jwt response), dcql (match the query to the credential)
// and @sd-jwt/sd-jwt-vc (select disclosures, KB-JWT). `jose` and node:crypto only do
// the JWS/JWE/X.509 primitives the library asks for.
//
// Input: one JSON object on stdin:
//   { "url": "openid4vp://…", "trust_anchor_pem": "…", "credential": "<SD-JWT VC>",
//     "holder_private_key_pem": "…PKCS#8 P-256…" }
// Output on stdout: {"status": <HTTP status of the verifier's answer>, "body": {...},
//   "client_id": "…", "shared": [...claim names]}; on failure a message on stderr, exit 1.

import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { Openid4vpClient } from '@openid4vc/openid4vp';
import { setGlobalConfig } from '@openid4vc/oauth2';
import { DcqlQuery, runDcqlQuery } from 'dcql';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { digest, ES256, generateSalt } from '@sd-jwt/crypto-nodejs';
import * as jose from 'jose';

// ikd-verifier runs on plain http on loopback in the test.
setGlobalConfig({ allowInsecureUrls: true });

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const pemOf = (b64) => `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;

const input = await readStdin();
const anchor = new X509Certificate(input.trust_anchor_pem);

const callbacks = {
  hash: (data) => new Uint8Array(createHash('sha256').update(data).digest()),
  fetch,
  getX509CertificateMetadata: (cert) => {
    const c = new X509Certificate(Buffer.from(cert, 'base64'));
    const san = c.subjectAltName ?? '';
    return {
      sanDnsNames: san.split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
      sanUriNames: san.split(', ').filter((s) => s.startsWith('URI:')).map((s) => s.slice(4)),
    };
  },
  verifyJwt: async (signer, { compact }) => {
    if (signer.method !== 'x5c') return { verified: false };
    const chain = signer.x5c.map((c) => new X509Certificate(Buffer.from(c, 'base64')));
    // The chain must end at the configured relying-party trust anchor.
    for (let i = 0; i + 1 < chain.length; i++) {
      if (!chain[i].verify(chain[i + 1].publicKey)) return { verified: false };
    }
    const last = chain[chain.length - 1];
    if (!(last.fingerprint256 === anchor.fingerprint256 || last.verify(anchor.publicKey))) return { verified: false };
    const key = await jose.importX509(pemOf(signer.x5c[0]), 'ES256');
    try {
      await jose.compactVerify(compact, key);
    } catch {
      return { verified: false };
    }
    const jwk = await jose.exportJWK(key);
    return { verified: true, signerJwk: jwk };
  },
  signJwt: () => { throw new Error('not used'); },
  decryptJwe: () => { throw new Error('not used'); },
  encryptJwe: async (encryptor, data) => {
    const key = await jose.importJWK(encryptor.publicJwk, 'ECDH-ES');
    const jwe = await new jose.CompactEncrypt(new TextEncoder().encode(data))
      .setProtectedHeader({ alg: 'ECDH-ES', enc: encryptor.enc, kid: encryptor.publicJwk.kid })
      .encrypt(key);
    return { encryptionJwk: encryptor.publicJwk, jwe };
  },
};

const client = new Openid4vpClient({ callbacks });
const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: input.url });
const resolved = await client.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: parsed.params });
const request = resolved.authorizationRequestPayload;
if (!resolved.dcql) throw new Error('expected a DCQL request');

// The holder's credential, as DCQL sees it.
const holderKey = await jose.importPKCS8(input.holder_private_key_pem, 'ES256', { extractable: true });
const holderJwk = await jose.exportJWK(holderKey);
const sdjwt = new SDJwtVcInstance({
  hasher: digest,
  saltGenerator: generateSalt,
  kbSigner: await ES256.getSigner(holderJwk),
  kbSignAlg: 'ES256',
});
const claims = await sdjwt.getClaims(input.credential);
const query = DcqlQuery.parse(resolved.dcql.query);
DcqlQuery.validate(query);
const result = runDcqlQuery(query, {
  credentials: [{ credential_format: 'dc+sd-jwt', vct: claims.vct, claims, cryptographic_holder_binding: true }],
  presentation: false,
});
if (!result.can_be_satisfied) throw new Error(`DCQL cannot be satisfied: ${JSON.stringify(result)}`);

// Disclose exactly the requested claim paths.
const vpToken = {};
const shared = [];
for (const cq of query.credentials) {
  const frame = {};
  for (const c of cq.claims ?? []) {
    let node = frame;
    c.path.forEach((p, i) => {
      if (i === c.path.length - 1) node[p] = true;
      else node = node[p] = node[p] ?? {};
    });
    shared.push(c.path.join('.'));
  }
  const presentation = await sdjwt.present(input.credential, frame, {
    kb: { payload: { iat: Math.floor(Date.now() / 1000), aud: request.client_id, nonce: request.nonce } },
  });
  vpToken[cq.id] = [presentation];
}

const response = await client.createOpenid4vpAuthorizationResponse({
  authorizationRequestPayload: request,
  authorizationResponsePayload: { vp_token: vpToken },
  jarm: request.response_mode === 'direct_post.jwt'
    ? {
        encryption: { nonce: jose.base64url.encode(randomBytes(16)) },
        serverMetadata: {
          authorization_signing_alg_values_supported: ['ES256'],
          authorization_encryption_alg_values_supported: ['ECDH-ES'],
          authorization_encryption_enc_values_supported: ['A128GCM', 'A256GCM'],
        },
      }
    : undefined,
});
const submitted = await client.submitOpenid4vpAuthorizationResponse({
  authorizationRequestPayload: request,
  authorizationResponsePayload: response.authorizationResponsePayload,
  jarm: response.jarm ? { responseJwt: response.jarm.responseJwt } : undefined,
});
const body = await submitted.response.json().catch(() => null);
process.stdout.write(`${JSON.stringify({ status: submitted.response.status, body, client_id: request.client_id, shared, mode: submitted.responseMode })}\n`);
