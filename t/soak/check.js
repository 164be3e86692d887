// Checks of a soak run (called by t/soak/run.sh; everything in one directory).
//   node check.js DIR
// DIR/responses     wrk counts: "<class> <loc> <sent> <received> <status> <n>"
//                   and a "# wrk requests=… connect=… read=… write=… status=… timeout=…" line
// DIR/switches      "<t_begin> <t_end> <mode>" per provider state change (epoch s)
// DIR/gracefuls     "<t> <rc>" per graceful restart
// DIR/revocations   "<t> lrev" when the lrev tokens were revoked (provider + handler)
// DIR/rules         "<t> <status> <status>" per client_id= / sub= revocation
// DIR/tokens.json   token metadata (class, client, exp, revoked, allow)
// DIR/backend.json  the counting backend's /__stats
// DIR/rss           "warm <kB> <nprocs>" and "end <kB> <nprocs>"
// DIR/error_log     httpd's
// Env: SOAK_MAXTTL (OAuth2FederatedCacheMaxTTL), SOAK_GRACE_BEFORE / _AFTER
// (extra seconds around each switch), SOAK_MIN_GRACEFUL (2), SOAK_BREAKER_TAIL
// (seconds after a fault during which an open circuit may still answer 401).
// Prints the summary and "soak: N passed, M failed"; exit 1 if M > 0.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const DIR = process.argv[2];
const rd = (f) => fs.readFileSync(path.join(DIR, f), 'utf8');
const lines = (f) => rd(f).split('\n').filter((l) => l.trim() !== '');
const MAXTTL = Number(process.env.SOAK_MAXTTL || 1);
const BEFORE = Number(process.env.SOAK_GRACE_BEFORE || 2);
const AFTER = Number(process.env.SOAK_GRACE_AFTER || 1);
const MIN_GRACEFUL = Number(process.env.SOAK_MIN_GRACEFUL || 2);
const BREAKER_TAIL = Number(process.env.SOAK_BREAKER_TAIL || 17);

// What the spec (gateway profile) answers while the provider is in a mode,
// for a token that needs the provider. null = the token's healthy outcome.
const FAULT_STATUS = {
  ok: null, slow: null, fail500: 500, hang: 401, late: 401, down: 401, refused: 401,
};

// ---- inputs ---------------------------------------------------------------
const meta = JSON.parse(rd('tokens.json'));
const shortExp = Math.min(...Object.values(meta).filter((m) => m.class === 'short').map((m) => m.exp));
const switches = lines('switches').map((l) => {
  const [b, e, mode] = l.split(/\s+/);
  return { b: Number(b), e: Number(e), mode };
});
const gracefuls = lines('gracefuls').map((l) => l.split(/\s+/));
const optLines = (f) => (fs.existsSync(path.join(DIR, f)) ? lines(f) : []);
const revocations = optLines('revocations');
const ruleAnswers = optLines('rules').map((l) => l.split(/\s+/).slice(1));
const revokedAt = Math.min(...Object.values(meta).filter((m) => m.class === 'lrev' && m.revoked_at).map((m) => m.revoked_at));
const backend = JSON.parse(rd('backend.json'));
const rss = Object.fromEntries(lines('rss').map((l) => { const [k, kb, n] = l.split(/\s+/); return [k, { kb: Number(kb), n: Number(n) }]; }));
const errorLog = fs.existsSync(path.join(DIR, 'error_log')) ? rd('error_log') : '';

let wrk = null;
const rows = [];
for (const l of lines('responses')) {
  if (l.startsWith('# wrk')) {
    wrk = Object.fromEntries(l.slice(6).split(/\s+/).map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
    continue;
  }
  const [cls, loc, sent, recv, status, n] = l.split(/\s+/);
  rows.push({ cls, loc, sent: Number(sent), recv: Number(recv), status: Number(status), n: Number(n) });
}

// Modes in force at some time in [from, to]: mode i holds from its switch's
// begin to the next switch's end.
function modesIn(from, to) {
  const out = new Set();
  for (let i = 0; i < switches.length; i += 1) {
    const start = switches[i].b;
    const end = i + 1 < switches.length ? switches[i + 1].e : Infinity;
    if (start <= to && end >= from) out.add(switches[i].mode);
  }
  return out;
}

// The answer for a token when the provider is healthy, at some time in [from, to].
function healthy(cls, loc, from, to) {
  const s = new Set();
  const valid = (scopeOk) => s.add(scopeOk ? 200 : 403);
  switch (cls) {
    case 'rw': valid(true); break;
    case 'ro': valid(loc === 'read'); break;
    case 'short':
      if (from < shortExp + 1) valid(loc === 'read');
      if (to >= shortExp - 1) s.add(401);
      break;
    case 'lrev': // valid until revoked mid-run (README "Revocation")
      if (!Number.isFinite(revokedAt) || from < revokedAt + 1) valid(true);
      if (to >= revokedAt - 1) s.add(401);
      break;
    case 'revoked': case 'fake': s.add(401); break;
    default: break;
  }
  return s;
}

function allowed(r) {
  if (r.cls === 'none' || r.cls === 'malformed') return new Set([400]);
  const from = r.sent - MAXTTL - BEFORE; // a validation cached before the switch
  const to = r.recv + AFTER + 1; // 1 s resolution
  const s = new Set();
  for (const mode of modesIn(from, to)) {
    const f = FAULT_STATUS[mode];
    if (f === null) for (const x of healthy(r.cls, r.loc, from, to)) s.add(x);
    else if (f !== undefined) s.add(f);
  }
  // README "Outages": an open circuit answers as an unreachable provider,
  // during a fault and until a probe after it succeeds
  if ([...modesIn(from - BREAKER_TAIL, to)].some((m) => FAULT_STATUS[m])) s.add(401);
  return s;
}

// ---- checks -----------------------------------------------------------------
const results = [];
const check = (name, ok, detail) => results.push({ name, ok: !!ok, detail });

const byStatus = {};
const byClass = {};
let bad = 0;
let total = 0;
let strict = 0; // answers for which exactly one status was allowed
const badSamples = {};
for (const r of rows) {
  total += r.n;
  byStatus[r.status] = (byStatus[r.status] || 0) + r.n;
  const k = `${r.cls}@${r.loc}`;
  (byClass[k] ||= {})[r.status] = (byClass[k][r.status] || 0) + r.n;
  const a = allowed(r);
  if (a.size === 1) strict += r.n;
  if (!a.has(r.status)) {
    bad += r.n;
    const mk = `${k} got ${r.status}, allowed ${[...a].join('/') || 'nothing'} (modes ${[...modesIn(r.sent - MAXTTL - BEFORE, r.recv + AFTER + 1)].join(',')})`;
    (badSamples[mk] ||= []).push(`${r.sent}->${r.recv}:${r.n}`);
  }
}

const sockErr = wrk ? wrk.connect + wrk.read + wrk.write + wrk.timeout : -1;
check('wrk ran and reported', wrk && wrk.requests > 0 && total > 0, wrk ? `${wrk.requests} requests, ${total} answers logged` : 'no wrk summary');
check('no socket errors (graceful loses no request)', sockErr === 0,
  wrk ? `connect ${wrk.connect}, read ${wrk.read}, write ${wrk.write}, timeout ${wrk.timeout}` : '');
check('every answer has the status the spec gives for the provider state', total > 0 && bad === 0,
  `${bad} of ${total} outside the allowed set; ${strict} had exactly one allowed status`);
const modesSeen = new Set(switches.map((s) => s.mode));
check('faults injected', ['fail500', 'hang', 'down'].every((m) => modesSeen.has(m)) || switches.length >= 5,
  `${switches.length - 1} switches: ${[...modesSeen].join(', ')}`);
const tagged = rows.filter((r) => r.cls === '?').reduce((a, r) => a + r.n, 0);
check('every answer identified (X-Soak echoed)', tagged === 0, `${tagged} answers without the X-Soak tag`);
const passedValid = (byClass['rw@write'] || {})[200] || 0;
check('valid tokens passed while the provider was healthy', passedValid > 0, `rw@write 200: ${passedValid}`);
check('the short token expired during the run and was refused', ((byClass['short@read'] || {})[401] || 0) > 0
  && ((byClass['short@read'] || {})[200] || 0) > 0,
  `short@read 200: ${(byClass['short@read'] || {})[200] || 0}, 401: ${(byClass['short@read'] || {})[401] || 0}`);
check('backend saw no unvalidated request', backend.unvalidated === 0,
  `${backend.unvalidated} unvalidated passes, ${backend.clientMismatch} X-AGW-client_id mismatches`);
check('backend saw no X-AGW-client_id mix-up', backend.clientMismatch === 0, `${backend.clientMismatch}`);
const lateRevoked = rows.filter((r) => r.cls === 'lrev' && r.status === 200 && r.sent > revokedAt + 1)
  .reduce((a, r) => a + r.n, 0);
check('revoked during the run: the lrev tokens were revoked (provider and handler, 204)',
  revocations.length === 1 && Number.isFinite(revokedAt), `${revocations.length} revocation events`);
check('no 200 for an lrev token after its revocation', Number.isFinite(revokedAt) && lateRevoked === 0,
  `${lateRevoked} answers`);
const badRules = ruleAnswers.filter((a) => a[0] !== '204' || a[1] !== '204').length;
check('client_id= and sub= revocations under load answered 204', ruleAnswers.length > 0 && badRules === 0,
  `${ruleAnswers.length} pairs, ${badRules} not 204`);
const breakerLines = errorLog.split('\n').filter((l) => /OA2F105\d\d/.test(l)).length;
check('the circuit breaker opened during faults (log line)', breakerLines > 0, `${breakerLines} lines`);
const okGraceful = gracefuls.filter((g) => g[1] === '0').length;
check(`at least ${MIN_GRACEFUL} graceful restarts`, okGraceful >= MIN_GRACEFUL, `${okGraceful} of ${gracefuls.length} succeeded`);
const crashRe = /exit signal|Segmentation fault|AH00052|double free|corrupted|Assertion .*failed|AddressSanitizer|runtime error:/;
const crashLines = errorLog.split('\n').filter((l) => crashRe.test(l));
check('no child crash in the error log', crashLines.length === 0, `${crashLines.length} lines`);
const mb = (x) => `${(x.kb / 1024).toFixed(1)} MB in ${x.n} processes (${(x.kb / 1024 / x.n).toFixed(1)} each)`;
const limit = rss.warm ? rss.warm.kb * 1.5 + 20 * 1024 : 0;
check('RSS flat (end < 1.5 x warm-up + 20 MB)', rss.warm && rss.end && rss.end.kb < limit,
  rss.warm && rss.end ? `${mb(rss.warm)} -> ${mb(rss.end)}, limit ${(limit / 1024).toFixed(1)} MB` : 'missing');

// ---- summary -----------------------------------------------------------------
const fmt = (o) => Object.keys(o).sort().map((k) => `${k}:${o[k]}`).join(' ');
const faults = switches.slice(1).map((s) => s.mode);
const faultCount = faults.filter((m) => m !== 'ok').length;
console.log('---- soak summary ----');
console.log(`requests by status: ${fmt(byStatus)}  (total ${total})`);
for (const k of Object.keys(byClass).sort()) console.log(`  ${k.padEnd(16)} ${fmt(byClass[k])}`);
console.log(`faults injected: ${faultCount} (${faults.join(' -> ')})`);
console.log(`graceful restarts: ${okGraceful}`);
console.log(`crashes: ${crashLines.length}`);
for (const l of crashLines.slice(0, 5)) console.log(`  ${l}`);
console.log(`unvalidated passes: ${backend.unvalidated}  (backend: ${backend.requests} requests, ${fmt(backend.byPath)})`);
for (const s of backend.samples.slice(0, 5)) console.log(`  ${JSON.stringify(s)}`);
console.log(`backend by class: ${Object.keys(backend.byClass).sort().map((c) => `${c}{${fmt(backend.byClass[c])}}`).join(' ')}`);
if (rss.warm && rss.end) console.log(`RSS: warm-up ${mb(rss.warm)}, end ${mb(rss.end)}`);
if (wrk) console.log(`wrk: ${wrk.requests} requests, socket errors: connect ${wrk.connect} read ${wrk.read} write ${wrk.write} timeout ${wrk.timeout}`);
const badKeys = Object.keys(badSamples);
if (badKeys.length) {
  console.log('unexpected statuses (sent->received epoch s: count):');
  for (const k of badKeys.slice(0, 20)) console.log(`  ${k}: ${badSamples[k].slice(0, 8).join(' ')}${badSamples[k].length > 8 ? ' …' : ''}`);
}
let passed = 0;
let failed = 0;
for (const r of results) {
  if (r.ok) passed += 1; else failed += 1;
  console.log(`${r.ok ? 'ok    ' : 'FAILED'} ${r.name}${r.detail ? ` — ${r.detail}` : ''}`);
}
console.log(`soak: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
