// JWT access tokens for the benchmark's JWT scenarios, minted in advance
// with node:crypto only (no npm dependency), signed with a key that
// bench.py made with openssl (EC P-256 → ES256, RSA → RS256).
//
//   node jwt.js jwks KEY.pem KID OUT.json
//       the public key as a JWKS ({"keys":[{kty,crv,x,y|n,e,kid,alg,use}]})
//   node jwt.js mint KEY.pem KID OUT.txt SPEC_JSON
//       SPEC_JSON: {"n": count, "jti": prefix, "iss", "aud": [..], "scope",
//                   "ttl": seconds until exp (negative: already expired),
//                   "corrupt": true (the signature broken: one byte flipped)}
//       writes one compact JWS per line; prints {"n","ms","bytes"}
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');

const b64u = (buf) => Buffer.from(buf).toString('base64url');

function keyInfo(pem) {
  const priv = crypto.createPrivateKey(pem);
  const pub = crypto.createPublicKey(priv);
  const jwk = pub.export({ format: 'jwk' });
  if (jwk.kty === 'EC') {
    const alg = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[jwk.crv];
    const hash = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' }[alg];
    return { priv, jwk, alg, hash, ec: true };
  }
  if (jwk.kty === 'RSA') return { priv, jwk, alg: 'RS256', hash: 'sha256', ec: false };
  throw new Error(`unsupported key type ${jwk.kty}`);
}

function jwks(pemFile, kid, out) {
  const k = keyInfo(fs.readFileSync(pemFile));
  const key = { ...k.jwk, kid, alg: k.alg, use: 'sig' };
  fs.writeFileSync(out, `${JSON.stringify({ keys: [key] })}\n`);
}

function mint(pemFile, kid, out, spec) {
  const k = keyInfo(fs.readFileSync(pemFile));
  const t0 = process.hrtime.bigint();
  const now = Math.floor(Date.now() / 1000);
  const header = b64u(JSON.stringify({ alg: k.alg, typ: 'at+jwt', kid }));
  const fd = fs.openSync(out, 'w');
  let bytes = 0;
  let chunk = [];
  const n = Number(spec.n || 1);
  for (let i = 0; i < n; i += 1) {
    const claims = {
      iss: spec.iss,
      sub: 'bench-user',
      aud: spec.aud,
      client_id: 'bench',
      username: 'bench-user',
      scope: spec.scope || 'read write',
      iat: now - 30,
      exp: now + Number(spec.ttl || 14400),
      jti: `${spec.jti || 'jti'}-${i}`,
    };
    const input = `${header}.${b64u(JSON.stringify(claims))}`;
    const sig = crypto.sign(k.hash, Buffer.from(input),
      k.ec ? { key: k.priv, dsaEncoding: 'ieee-p1363' } : k.priv);
    if (spec.corrupt) sig[sig.length >> 1] ^= 0x01;
    const tok = `${input}.${b64u(sig)}`;
    chunk.push(tok);
    bytes += tok.length + 1;
    if (chunk.length >= 1000) {
      fs.writeSync(fd, `${chunk.join('\n')}\n`);
      chunk = [];
    }
  }
  if (chunk.length) fs.writeSync(fd, `${chunk.join('\n')}\n`);
  fs.closeSync(fd);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(`${JSON.stringify({ n, ms: Math.round(ms), bytes })}\n`);
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'jwks') {
  jwks(args[0], args[1], args[2]);
} else if (cmd === 'mint') {
  mint(args[0], args[1], args[2], JSON.parse(args[3]));
} else {
  process.stderr.write('usage: jwt.js jwks KEY KID OUT | mint KEY KID OUT SPEC_JSON\n');
  process.exit(2);
}
