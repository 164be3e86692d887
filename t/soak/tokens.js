// Mint the soak test's tokens from provider.js and write the request mix.
//   node tokens.js DIR          long-lived tokens; writes both files
//   node tokens.js DIR short    adds the 5 s app-short tokens (minted last,
//                               just before wrk starts, so that they expire
//                               early in the run)
//   node tokens.js DIR revoke URL
//                               during the run: revokes the lrev tokens at
//                               the provider (RFC 7009), then through the
//                               module's handler at URL (README
//                               "Revocation"), and records when
// DIR/tokens.json  {"<token>": {class, client, exp, revoked, allow}} (for backend.js, check.js)
// DIR/mix          "<class> <location> <weight> <token|->" lines (for mix.lua)
// Classes: rw (app-rw, "read write"), ro (app-read, "read": 403 on /write),
// short (app-short, 5 s: expires during the run), revoked (app-rw/app-read,
// revoked with RFC 7009 before the run), fake ("fake…", unknown to the
// provider), malformed (not b64token: 400, provider not asked), none (no token),
// lrev (app-rw, valid until revoked during the run: never 200 afterwards).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const DIR = process.argv[2];
const BASE = `http://127.0.0.1:${process.env.OA2F_PROVIDER_PORT || 18530}`;
const form = (o) => new URLSearchParams(o).toString();
const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
const basic = (id, secret) => `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;

async function post(route, auth, body) {
  const res = await fetch(BASE + route, {
    method: 'POST',
    headers: { Authorization: auth, Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: form(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${route}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

async function mint(client, scope) {
  const a = await post('/token', basic(client, `${client}-secret`), { grant_type: 'client_credentials', scope });
  return a.access_token;
}

const introspect = (token) => post('/token/introspection', basic('rs-other', 'rs-other-secret'), { token });

const fake = ['fake-0000000000000000000000000000000000000001', 'fakeZm9vYmFyYmF6cXV4', 'fake.token~with_all-b64+chars/=='];
const both = ['/read', '/write'];

async function main() {
  const shortOnly = process.argv[3] === 'short';
  const metaFile = path.join(DIR, 'tokens.json');
  const mixFile = path.join(DIR, 'mix');
  const meta = process.argv[3] ? JSON.parse(fs.readFileSync(metaFile, 'utf8')) : {};
  const add = async (cls, client, scope, allow, revoke = false) => {
    const token = await mint(client, scope);
    const info = await introspect(token);
    if (!info.active) throw new Error(`fresh ${client} token is not active`);
    if (revoke) {
      await post('/token/revocation', basic(client, `${client}-secret`), { token });
      const after = await introspect(token);
      if (after.active) throw new Error(`revoked ${client} token is still active`);
    }
    meta[token] = { class: cls, client, exp: info.exp, revoked: revoke, allow };
    return token;
  };
  const mix = [];
  const entry = (cls, loc, weight, token) => mix.push(`${cls} ${loc} ${weight} ${token}`);
  const now = () => Math.floor(Date.now() / 1000);

  if (process.argv[3] === 'revoke') {
    const url = process.argv[4];
    const lrev = Object.keys(meta).filter((t) => meta[t].class === 'lrev');
    for (const token of lrev) {
      await post('/token/revocation', basic(meta[token].client, `${meta[token].client}-secret`), { token });
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: form({ token }),
      });
      if (res.status !== 204) throw new Error(`${url}: ${res.status} ${await res.text()}`);
      meta[token].revoked_at = Date.now() / 1000;
    }
    fs.writeFileSync(metaFile, JSON.stringify(meta, null, 1));
    console.log(`tokens: ${lrev.length} lrev revoked at the provider and through the handler`);
    return;
  }

  if (shortOnly) {
    const short = [];
    for (let i = 0; i < 2; i += 1) short.push(await add('short', 'app-short', 'read', ['/read']));
    for (const loc of ['read', 'write']) short.forEach((t) => entry('short', loc, 1, t));
    fs.writeFileSync(metaFile, JSON.stringify(meta, null, 1));
    fs.appendFileSync(mixFile, mix.join('\n') + '\n');
    console.log(`tokens: ${short.length} short, expiring in ${Math.min(...short.map((t) => meta[t].exp)) - now()} s`);
    return;
  }

  const rw = [];
  const ro = [];
  const revoked = [];
  for (let i = 0; i < 3; i += 1) rw.push(await add('rw', 'app-rw', 'read write', both));
  for (let i = 0; i < 2; i += 1) ro.push(await add('ro', 'app-read', 'read', ['/read']));
  revoked.push(await add('revoked', 'app-rw', 'read write', [], true));
  revoked.push(await add('revoked', 'app-read', 'read', [], true));
  const lrev = [];
  for (let i = 0; i < 2; i += 1) lrev.push(await add('lrev', 'app-rw', 'read write', both));
  for (const loc of ['read', 'write']) {
    rw.forEach((t) => entry('rw', loc, 3, t));
    ro.forEach((t) => entry('ro', loc, 2, t));
    revoked.forEach((t) => entry('revoked', loc, 1, t));
    lrev.forEach((t) => entry('lrev', loc, 2, t));
    fake.forEach((t) => entry('fake', loc, 1, t));
    entry('malformed', loc, 1, 'fake!not"b64token');
    entry('none', loc, 1, '-');
  }
  fs.writeFileSync(metaFile, JSON.stringify(meta, null, 1));
  fs.writeFileSync(mixFile, mix.join('\n') + '\n');
  console.log(`tokens: ${rw.length} rw, ${ro.length} ro, ${revoked.length} revoked, ${lrev.length} lrev, ${fake.length} fake`);
}

main().catch((err) => { console.error(`tokens.js: ${err.message}`); process.exit(1); });
