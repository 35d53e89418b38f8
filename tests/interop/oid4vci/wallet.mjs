// A third-party OpenID4VCI 1.0 wallet run against ikd-server.
//
// It uses @openid4vc/openid4vci (OpenWallet Foundation / Animo, the library behind Credo)
// for every protocol step: offer resolution, issuer + authorization server metadata,
// the pre-authorised code token request with tx_code, the nonce endpoint, the proof JWT
// and the credential request. `jose` only signs the JWT the library hands it.
//
// Input: one JSON object on stdin (secrets stay off the command line):
//   {
//     "offer": "openid-credential-offer://?credential_offer=…"  (or the offer JSON text),
//     "tx_code": "123456",
//     "private_key_pem": "-----BEGIN PRIVATE KEY-----…"   (PKCS#8 P-256; optional:
//                                                          without it a key is generated)
//     "allow_insecure_urls": true                          (loopback http test server)
//     "dpop": true                                         (optional: DPoP, RFC 9449, by the
//                                                          library with the holder key at
//                                                          /token and /credential)
//   }
// Output (stdout, exit 0):
//   { "holder_jwk": {…}, "token_type": "Bearer" | "DPoP",
//     "credentials": { "<configuration id>": "<sd-jwt>", … } }
// On failure: a message on stderr, exit 1.

import { Openid4vciClient, setGlobalConfig } from '@openid4vc/openid4vci';
import {
  clientAuthenticationAnonymous,
  getAuthorizationServerMetadataFromList,
  HashAlgorithm,
  Oauth2Client,
} from '@openid4vc/oauth2';
import { CompactSign, exportJWK, generateKeyPair, importPKCS8 } from 'jose';
import { createHash, randomBytes } from 'node:crypto';

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function offerUri(offer) {
  const t = offer.trim();
  if (t.startsWith('{')) {
    return `openid-credential-offer://?credential_offer=${encodeURIComponent(t)}`;
  }
  return t;
}

async function holderKey(pem) {
  if (pem) {
    const privateKey = await importPKCS8(pem, 'ES256', { extractable: true });
    const { kty, crv, x, y } = await exportJWK(privateKey);
    return { privateKey, publicJwk: { kty, crv, x, y } };
  }
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const { kty, crv, x, y } = await exportJWK(publicKey);
  return { privateKey, publicJwk: { kty, crv, x, y } };
}

function hashCallback(data, alg) {
  const name = { [HashAlgorithm.Sha256]: 'sha256', [HashAlgorithm.Sha384]: 'sha384', [HashAlgorithm.Sha512]: 'sha512' }[alg];
  if (!name) throw new Error(`unsupported hash ${alg}`);
  return new Uint8Array(createHash(name).update(data).digest());
}

async function main() {
  const input = JSON.parse(await readStdin());
  if (!input.offer || !input.tx_code) throw new Error('input needs "offer" and "tx_code"');
  if (input.allow_insecure_urls) setGlobalConfig({ allowInsecureUrls: true });

  const { privateKey, publicJwk } = await holderKey(input.private_key_pem);

  // Traces each HTTP exchange on stderr: method, URL path, the names (never the values)
  // of the request's parameters, status.
  const tracingFetch = async (url, init) => {
    const res = await fetch(url, init);
    let names = '';
    if (typeof init?.body === 'string') {
      try {
        names = Object.keys(JSON.parse(init.body)).join(',');
      } catch {
        names = [...new URLSearchParams(init.body).keys()].join(',');
      }
    }
    const path = new URL(String(url)).pathname;
    process.stderr.write(`wallet: ${init?.method ?? 'GET'} ${path}${names ? ` {${names}}` : ''} -> ${res.status}\n`);
    return res;
  };

  const callbacks = {
    fetch: tracingFetch,
    hash: hashCallback,
    generateRandom: (n) => new Uint8Array(randomBytes(n)),
    clientAuthentication: clientAuthenticationAnonymous(),
    signJwt: async (signer, { header, payload }) => {
      if (signer.method !== 'jwk' || signer.alg !== 'ES256') {
        throw new Error(`unexpected signer ${signer.method}/${signer.alg}`);
      }
      const jwt = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
        .setProtectedHeader(header)
        .sign(privateKey);
      return { jwt, signerJwk: publicJwk };
    },
  };
  const client = new Openid4vciClient({ callbacks });

  // 1. Offer and metadata.
  const credentialOffer = await client.resolveCredentialOffer(offerUri(input.offer));
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);

  // 2. Token: pre-authorised code + tx_code (with a DPoP proof by the library when asked;
  // it retries by itself when the server answers `use_dpop_nonce`).
  const signer = { method: 'jwk', alg: 'ES256', publicJwk };
  let dpop = input.dpop ? { signer } : undefined;
  const tokenResult = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer,
    issuerMetadata,
    txCode: input.tx_code,
    dpop,
  });
  const { accessTokenResponse } = tokenResult;
  if (input.dpop) dpop = { signer, nonce: tokenResult.dpop?.nonce };

  // 3. One fresh nonce and proof per credential (the issuer's nonces are single use).
  const issue = async (accessToken, credentialConfigurationId) => {
    const { c_nonce } = await client.requestNonce({ issuerMetadata });
    const { jwt } = await client.createCredentialRequestJwtProof({
      issuerMetadata,
      credentialConfigurationId,
      nonce: c_nonce,
      signer: { method: 'jwk', alg: 'ES256', publicJwk },
    });
    const result = await client.retrieveCredentials({
      issuerMetadata,
      accessToken,
      credentialConfigurationId,
      proofs: { jwt: [jwt] },
      dpop,
    });
    const { credentialResponse } = result;
    if (dpop && result.dpop?.nonce) dpop = { signer, nonce: result.dpop.nonce };
    const issued = credentialResponse.credentials;
    if (!Array.isArray(issued) || issued.length !== 1) {
      throw new Error(`expected one credential for ${credentialConfigurationId}`);
    }
    const c = issued[0].credential;
    return typeof c === 'string' ? c : JSON.stringify(c);
  };
  const credentials = {};
  for (const id of credentialOffer.credential_configuration_ids) {
    credentials[id] = await issue(accessTokenResponse.access_token, id);
  }

  // 4. Optionally, the refresh_token grant, then one more credential with the new token.
  const out = { holder_jwk: publicJwk, token_type: accessTokenResponse.token_type, credentials };
  if (input.refresh) {
    if (!accessTokenResponse.refresh_token) throw new Error('the token response has no refresh_token');
    const oauth2 = new Oauth2Client({ callbacks });
    const authorizationServerMetadata = getAuthorizationServerMetadataFromList(
      issuerMetadata.authorizationServers,
      issuerMetadata.authorizationServers[0].issuer,
    );
    const refreshed = await oauth2.retrieveRefreshTokenAccessToken({
      authorizationServerMetadata,
      refreshToken: accessTokenResponse.refresh_token,
      dpop,
    });
    const id = credentialOffer.credential_configuration_ids[0];
    out.refreshed = { [id]: await issue(refreshed.accessTokenResponse.access_token, id) };
  }

  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((e) => {
  // Never print the input (it holds the code and the key); the library's errors hold
  // the endpoint and the issuer's error body, which carry no secrets.
  const status = e?.response?.status ?? e?.response?.response?.status;
  const extra = status ? ` (HTTP ${status})` : '';
  const body = e?.textResponse ?? e?.errorResponse ?? '';
  process.stderr.write(`wallet: ${e?.name ?? 'Error'}: ${e?.message ?? e}${extra}${body ? ` ${typeof body === 'string' ? body : JSON.stringify(body)}` : ''}\n`);
  process.exit(1);
});
