// A third-party OpenID4VP 1.0 verifier the IKD wallet presents to.
//
// Built on @openid4vc/openid4vp (the signed request object with x5c, and parsing the
// wallet's direct_post / direct_post.jwt response), dcql (does the vp_token satisfy the
// query?) and @sd-jwt/sd-jwt-vc (issuer signature, disclosures, KB-JWT). `jose` only
// signs the JWT and decrypts the JWE the library hands it.
//
// Input: one JSON object on stdin:
//   { "private_key_pem": "…PKCS#8 P-256…", "x5c": ["<leaf b64>", "<ca b64>"],
//     "client_id": "x509_hash:…", "response_mode": "direct_post" | "direct_post.jwt",
//     "dcql_query": {…}, "issuer": "http://127.0.0.1:PORT" (trusted; its
//     /.well-known/jwt-vc-issuer keys verify the credential) }
// Output on stdout, one JSON line each:
//   {"url": "openid4vp://…"}  once listening (the link the wallet opens), then
//   {"ok": true, "claims": {...}, "kb": {...}}  or {"ok": false, "error": "…"}
// after the one response it waits for; then it exits.

import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { Openid4vpVerifier } from '@openid4vc/openid4vp';
import { DcqlQuery, DcqlPresentationResult } from 'dcql';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { digest, ES256 } from '@sd-jwt/crypto-nodejs';
import * as jose from 'jose';
import { setGlobalConfig } from '@openid4vc/oauth2';

// The test servers are plain http on loopback.
setGlobalConfig({ allowInsecureUrls: true });

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function body(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const input = await readStdin();
const signingKey = await jose.importPKCS8(input.private_key_pem, 'ES256');
const enc = await jose.generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
const encJwk = { ...(await jose.exportJWK(enc.publicKey)), kid: 'enc-1', use: 'enc', alg: 'ECDH-ES' };

const callbacks = {
  hash: (data) => new Uint8Array(createHash('sha256').update(data).digest()),
  generateRandom: (n) => new Uint8Array(randomBytes(n)),
  signJwt: async (_signer, { header, payload }) => {
    const jwt = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ ...header, alg: 'ES256' })
      .sign(signingKey);
    return { jwt, signerJwk: encJwk };
  },
  decryptJwe: async (jwe) => {
    const { plaintext } = await jose.compactDecrypt(jwe, enc.privateKey);
    return { decrypted: true, decryptionJwk: encJwk, payload: new TextDecoder().decode(plaintext) };
  },
  encryptJwe: () => { throw new Error('not used'); },
  verifyJwt: () => ({ verified: false }),
};

const verifier = new Openid4vpVerifier({ callbacks });
const nonce = jose.base64url.encode(randomBytes(16));
const state = jose.base64url.encode(randomBytes(16));
const dcqlQuery = DcqlQuery.parse(input.dcql_query);
DcqlQuery.validate(dcqlQuery);

const server = http.createServer(async (req, res) => {
  try {
    if (req.url === '/request' && (req.method === 'GET' || req.method === 'POST')) {
      res.writeHead(200, { 'content-type': 'application/oauth-authz-req+jwt' });
      res.end(authRequest.jar.authorizationRequestJwt);
      return;
    }
    if (req.url === '/response' && req.method === 'POST') {
      const form = Object.fromEntries(new URLSearchParams(await body(req)));
      let result;
      try {
        result = await check(form);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ redirect_uri: `${base}/done` }));
      } catch (e) {
        result = { ok: false, error: String(e?.message ?? e) };
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_request', error_description: result.error }));
      }
      process.stdout.write(`${JSON.stringify(result)}\n`);
      server.close();
      return;
    }
    res.writeHead(404);
    res.end();
  } catch (e) {
    res.writeHead(500);
    res.end(String(e));
  }
});

async function check(form) {
  const parsed = await verifier.parseOpenid4vpAuthorizationResponse({
    authorizationResponse: form,
    authorizationRequestPayload: authRequest.authorizationRequestPayload,
    callbacks,
  });
  if (parsed.type !== 'dcql') throw new Error(`expected a DCQL response, got ${parsed.type}`);
  if (input.response_mode === 'direct_post.jwt' && !parsed.jarm) throw new Error('response was not encrypted');
  const meta = await (await fetch(`${input.issuer}/.well-known/jwt-vc-issuer`)).json();
  const presented = {};
  const out = {};
  let kb;
  for (const [queryId, presentations] of Object.entries(parsed.dcql.presentations)) {
    for (const p of presentations) {
      const header = jose.decodeProtectedHeader(p.split('~')[0]);
      const key = header.kid ? meta.jwks.keys.find((k) => k.kid === header.kid) : meta.jwks.keys[0];
      let holderJwk;
      const sdjwt = new SDJwtVcInstance({
        hasher: digest,
        verifier: await ES256.getVerifier(key),
        kbVerifier: async (data, sig, payload) => (await ES256.getVerifier(payload.cnf.jwk))(data, sig),
      });
      const v = await sdjwt.verify(p, { keyBindingNonce: parsed.expectedNonce, requireKeyBindings: true });
      if (!v.kb) throw new Error('no key binding');
      if (v.kb.payload.aud !== input.client_id) throw new Error(`KB-JWT aud ${v.kb.payload.aud}`);
      if (Math.abs(Date.now() / 1000 - v.kb.payload.iat) > 300) throw new Error('KB-JWT not fresh');
      kb = v.kb.payload;
      const claims = await sdjwt.getClaims(p);
      holderJwk = claims.cnf?.jwk;
      if (!holderJwk) throw new Error('no cnf');
      presented[queryId] = [{ credential_format: 'dc+sd-jwt', vct: claims.vct, claims, cryptographic_holder_binding: true }];
      out[queryId] = claims;
    }
  }
  const dcqlResult = DcqlPresentationResult.fromDcqlPresentation(presented, { dcqlQuery });
  if (!dcqlResult.can_be_satisfied) throw new Error(`DCQL not satisfied: ${JSON.stringify(dcqlResult)}`);
  return { ok: true, claims: out, kb, encrypted: Boolean(parsed.jarm) };
}

let base;
let authRequest;
server.listen(0, '127.0.0.1', async () => {
  base = `http://127.0.0.1:${server.address().port}`;
  const payload = {
    response_type: 'vp_token',
    client_id: input.client_id,
    response_uri: `${base}/response`,
    response_mode: input.response_mode,
    nonce,
    state,
    dcql_query: dcqlQuery,
    client_metadata: {
      vp_formats_supported: { 'dc+sd-jwt': { 'sd-jwt_alg_values': ['ES256'], 'kb-jwt_alg_values': ['ES256'] } },
      ...(input.response_mode === 'direct_post.jwt'
        ? { jwks: { keys: [encJwk] }, encrypted_response_enc_values_supported: ['A128GCM'] }
        : {}),
    },
  };
  authRequest = await verifier.createOpenId4vpAuthorizationRequest({
    authorizationRequestPayload: payload,
    jar: { requestUri: `${base}/request`, jwtSigner: { method: 'x5c', x5c: input.x5c, alg: 'ES256' } },
  });
  process.stdout.write(`${JSON.stringify({ url: authRequest.authorizationRequest })}\n`);
});
