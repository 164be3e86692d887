#!/bin/bash
# Exercise provider.js, stub.js and echo.js with curl; exit non-zero on any
# mismatch. Uses running servers if the provider answers /__stats, otherwise
# starts them (start.sh in a temporary directory) and stops them afterwards.
#   t/servers/selfcheck.sh            (ports from OA2F_*_PORT, as start.sh)
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
PP=${OA2F_PROVIDER_PORT:-18530}
SP=${OA2F_STUB_PORT:-18531}
EP=${OA2F_ECHO_PORT:-18532}
P=http://127.0.0.1:$PP
S=http://127.0.0.1:$SP
E=http://127.0.0.1:$EP
TMP=$(mktemp -d)
STARTED=
PASS=0
FAIL=0

cleanup() {
    curl -s -o /dev/null "$P/__mode?introspection=ok" 2>/dev/null
    [ -n "$STARTED" ] && "$HERE/stop.sh" "$TMP/run"
    for pid in ${EXTRA_PIDS:-}; do kill "$pid" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT

if ! curl -fs -o /dev/null --max-time 2 "$P/__stats"; then
    "$HERE/start.sh" "$TMP/run" || exit 1
    STARTED=1
fi

# ---- helpers --------------------------------------------------------------

# http ARGS... : run curl; sets CODE (HTTP status, 000 if none), BODY, CTYPE, RC
http() {
    local meta
    meta=$(curl -s -o "$TMP/body" -w '%{http_code} %{content_type}' "$@")
    RC=$?
    CODE=${meta%% *}
    CTYPE=${meta#* }
    BODY=$(head -c 2000 "$TMP/body")  # for messages; jv reads the file
}

# jv EXPR... : evaluate JS expressions over x = JSON.parse(last body) and
# print the first one's value as JSON; with several, print "true" if all are
# true, else "not true: EXPR". Also in scope: raw (body text), now (epoch s).
jv() {
    node -e '
        const raw = require("fs").readFileSync(process.argv[1], "utf8");
        let x; try { x = JSON.parse(raw); } catch { console.log("<not json>"); process.exit(); }
        const now = Math.floor(Date.now() / 1000);
        const exprs = process.argv.slice(2);
        if (exprs.length === 1) {
            const v = eval(exprs[0]);
            console.log(v === undefined ? "undefined" : JSON.stringify(v));
        } else {
            const failed = exprs.find((e) => eval(e) !== true);
            console.log(failed === undefined ? "true" : `not true: ${failed}`);
        }
    ' "$TMP/body" "$@"
}

ok()   { PASS=$((PASS + 1)); echo "ok   $1"; }
bad()  { FAIL=$((FAIL + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "     $2"; }

# expect DESC WANT GOT
expect() {
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "want [$2] got [$3]  body: ${BODY:0:300}"; fi
}
# expect_status DESC CODE [JS-EXPR...] : status, then each expression must be true
expect_status() {
    local desc=$1 want=$2 e
    shift 2
    if [ "$CODE" != "$want" ]; then bad "$desc" "status want $want got $CODE  body: ${BODY:0:300}"; return; fi
    if [ $# -gt 0 ]; then
        local r
        r=$(jv true "$@")
        [ "$r" = true ] || { bad "$desc" "$r  body: ${BODY:0:300}"; return; }
    fi
    ok "$desc"
}

# form-encode (RFC 6749 §2.3.1) then base64, for Basic credentials
basic() {
    node -e '
        const enc = (s) => encodeURIComponent(s).replace(/%20/g, "+");
        console.log(Buffer.from(enc(process.argv[1]) + ":" + enc(process.argv[2])).toString("base64"));
    ' "$1" "$2"
}

stat_of() { # stat_of URL JS-EXPR  → value from that server's /__stats
    http "$1/__stats"
    jv "$2"
}

mint() { # mint CLIENT SECRET [SCOPE] → token on stdout
    "$HERE/mint-token.sh" "$@"
}

RS_BASIC_SECRET='s3cr:t+/ %&'
AUTH_RS_BASIC="Authorization: Basic $(basic rs-basic "$RS_BASIC_SECRET")"
AUTH_RS_OTHER="Authorization: Basic $(basic rs-other rs-other-secret)"
JSON_ACCEPT='Accept: application/json'

introspect_basic() { http -H "$JSON_ACCEPT" -H "$AUTH_RS_BASIC" --data-urlencode "token=$1" "$P/token/introspection"; }
introspect_post()  {
    http -H "$JSON_ACCEPT" --data-urlencode client_id=rs-post --data-urlencode client_secret=rs-post-secret \
        --data-urlencode "token=$1" "$P/token/introspection"
}

echo "== provider ($P)"

# app-short first: its token must be dead by the end of the provider checks
SHORT=$(mint app-short app-short-secret read)
SHORT_AT=$(date +%s)

P_STATS0_INTRO=$(stat_of "$P" 'x.requests["/token/introspection"] || 0')
P_STATS0_CONN=$(stat_of "$P" 'x.connections')

http "$P/.well-known/openid-configuration"
expect_status "discovery names the endpoints" 200 \
    "x.issuer === '$P'" "x.introspection_endpoint === '$P/token/introspection'" \
    "x.revocation_endpoint === '$P/token/revocation'" "x.token_endpoint === '$P/token'"

declare -A TOKEN
for spec in "app-read:read" "app-rw:read write" "app-admin:read write admin" "app-short:read"; do
    c=${spec%%:*} scope=${spec#*:}
    ttl=3600; [ "$c" = app-short ] && ttl=5
    dept=eng; [ "$c" = app-admin ] && dept=ops
    http -H "$JSON_ACCEPT" -H "Authorization: Basic $(basic "$c" "$c-secret")" \
        -d grant_type=client_credentials --data-urlencode "scope=$scope" "$P/token"
    expect_status "$c: token issued (Basic, scope '$scope')" 200 \
        "typeof x.access_token === 'string' && x.access_token.split('.').length === 1" \
        "x.token_type === 'Bearer'" "x.expires_in === $ttl" "x.scope === '$scope'"
    TOKEN[$c]=$(jv x.access_token | tr -d '"')
    introspect_basic "${TOKEN[$c]}"
    expect_status "$c: rs-basic (Basic, secret with : + / space % &) sees it active" 200 \
        "x.active === true" "x.client_id === '$c'" "x.scope === '$scope'" \
        "x.username === 'user-$c'" "JSON.stringify(x.groups) === JSON.stringify(['staff','$c'])" \
        "x.dept === '$dept'" "x.exp - x.iat === $ttl" "x.exp > now" \
        "x.iss === '$P'" "x.aud === 'urn:oa2f:test-api'" "x.token_type === 'Bearer'" \
        "x.sub === undefined"
done
introspect_post "${TOKEN[app-rw]}"
expect_status "rs-post (form post) sees app-rw token active" 200 "x.active === true" "x.client_id === 'app-rw'"

http -H "$JSON_ACCEPT" -H "Authorization: Basic $(basic app-read app-read-secret)" \
    -d grant_type=client_credentials --data-urlencode "scope=read write" "$P/token"
expect_status "app-read asking for 'read write' is refused" 400 "x.error === 'invalid_scope'"
http -H "$JSON_ACCEPT" -d grant_type=client_credentials -d client_id=app-rw -d client_secret=app-rw-secret "$P/token"
expect_status "app-rw with form post at /token is refused (Basic only)" 401 "x.error === 'invalid_client'"
http -H "$JSON_ACCEPT" -H "Authorization: Basic $(basic app-rw app-rw-secret)" -d grant_type=client_credentials "$P/token"
expect_status "no scope requested gives a token without scope" 200 "x.scope === undefined"
NOSCOPE=$(jv x.access_token | tr -d '"')

http -H "$JSON_ACCEPT" --data-urlencode client_id=rs-basic --data-urlencode "client_secret=$RS_BASIC_SECRET" \
    --data-urlencode "token=${TOKEN[app-rw]}" "$P/token/introspection"
expect_status "rs-basic with form post is refused" 401 "x.error === 'invalid_client'"
http -i -H "$JSON_ACCEPT" -H "Authorization: Basic $(basic rs-post rs-post-secret)" \
    --data-urlencode "token=${TOKEN[app-rw]}" "$P/token/introspection"
expect "rs-post with Basic is refused (401 + challenge)" "401 1" \
    "$CODE $(grep -ci '^WWW-Authenticate: Basic' "$TMP/body")"
http -H "$JSON_ACCEPT" -H "Authorization: Basic $(printf '%s' "rs-basic:$RS_BASIC_SECRET" | base64 -w0)" \
    --data-urlencode "token=${TOKEN[app-rw]}" "$P/token/introspection"
expect_status "rs-basic secret NOT form-encoded in Basic is refused" 400 "x.error === 'invalid_request'"
http -H "$JSON_ACCEPT" -H "Authorization: Basic $(basic rs-basic wrong)" \
    --data-urlencode "token=${TOKEN[app-rw]}" "$P/token/introspection"
expect_status "rs-basic with a wrong secret is refused" 401 "x.error === 'invalid_client'"
http -H "$JSON_ACCEPT" -H "$AUTH_RS_BASIC" -d token= "$P/token/introspection"
expect_status "introspection without token: 400 invalid_request" 400 "x.error === 'invalid_request'"
introspect_basic "no-such-token"
expect "unknown token: exactly {\"active\":false}" '{"active":false}' "$BODY"
introspect_basic "eyJhbGciOiJub25lIn0.e30."
expect_status "JWT-shaped token: 400 unsupported_token_type" 400 "x.error === 'unsupported_token_type'"
http -H 'Accept: text/html' -H "$AUTH_RS_BASIC" -d token= "$P/token/introspection"
expect "errors come as HTML when Accept prefers it (oidc-provider quirk)" "400 text/html" "$CODE ${CTYPE%%;*}"

REV=$(mint app-rw app-rw-secret read)
http -H "$AUTH_RS_OTHER" --data-urlencode "token=$REV" "$P/token/revocation"
expect_status "revocation by a client that does not own the token is refused" 400 "x.error === 'invalid_request'"
http -H "Authorization: Basic $(basic app-rw app-rw-secret)" --data-urlencode "token=$REV" "$P/token/revocation"
expect "revocation by the owner: 200" 200 "$CODE"
introspect_basic "$REV"
expect "revoked token is inactive" '{"active":false}' "$BODY"

curl -s -o /dev/null "$P/__mode?introspection=fail500"
introspect_basic "${TOKEN[app-rw]}"
expect_status "__mode fail500: introspection answers 500" 500 "x.error === 'server_error'"
curl -s -o /dev/null "$P/__mode?introspection=down"
introspect_basic "${TOKEN[app-rw]}"
expect "__mode down: connection closed without answer (curl rc 52)" "000 52" "$CODE $RC"
curl -s -o /dev/null "$P/__mode?introspection=hang"
http -m 2 -H "$AUTH_RS_BASIC" --data-urlencode "token=${TOKEN[app-rw]}" "$P/token/introspection"
expect "__mode hang: no answer within 2 s (curl rc 28)" "000 28" "$CODE $RC"
http "$P/__mode?introspection=ok"
expect "__mode back to ok" '{"introspection":"ok"}' "$BODY"

wait_s=$(( SHORT_AT + 7 - $(date +%s) ))
[ "$wait_s" -gt 0 ] && sleep "$wait_s"
introspect_basic "$SHORT"
expect "app-short token inactive after 6 s" '{"active":false}' "$BODY"

P_STATS1_INTRO=$(stat_of "$P" 'x.requests["/token/introspection"]')
P_STATS1_CONN=$(stat_of "$P" 'x.connections')
expect "provider /__stats counted 18 introspection requests" 18 $((P_STATS1_INTRO - P_STATS0_INTRO))
[ "$P_STATS1_CONN" -gt $((P_STATS0_CONN + 20)) ] && ok "provider /__stats counts connections ($P_STATS0_CONN -> $P_STATS1_CONN)" \
    || bad "provider /__stats counts connections" "$P_STATS0_CONN -> $P_STATS1_CONN"

echo "== stub ($S)"

S_STATS0=$(stat_of "$S" 'x.requests["/inactive"] || 0')

http "$S/active";        expect_status "/active" 200 "x.active === true" "x.exp > now"
http "$S/garbage";       expect "/garbage: 200 json, not JSON" "200 application/json not json {" "$CODE $CTYPE $BODY"
http "$S/html";          expect "/html: 200 text/html" "200 text/html" "$CODE ${CTYPE%%;*}"
http "$S/500";           expect "/500" '500 {"error":"server_error"}' "$CODE $BODY"
http "$S/503";           expect "/503" 503 "$CODE"
http "$S/array";         expect "/array" '200 [1,2,3]' "$CODE $BODY"
http "$S/noactive";      expect_status "/noactive" 200 "!('active' in x)" "x.scope === 'read'" "x.exp > now"
http "$S/401";           expect "/401" '401 {"error":"invalid_client"}' "$CODE $BODY"
http "$S/403";           expect "/403" '403 {"error":"invalid_client"}' "$CODE $BODY"
http "$S/active-string"; expect_status "/active-string" 200 "x.active === 'true'" "x.exp > now"
http "$S/active-one";    expect_status "/active-one" 200 "x.active === 1" "x.exp > now"
http "$S/inactive";      expect "/inactive" '200 {"active":false}' "$CODE $BODY"
http "$S/noexp";         expect_status "/noexp" 200 "x.active === true" "!('exp' in x)" "x.username === 'noexp-user'"
http "$S/expired";       expect_status "/expired" 200 "x.active === true" "x.exp <= now - 99"
http "$S/inject"
expect_status "/inject carries the hostile members" 200 "x.active === true" "x.exp > now" \
    "x.username === 'eve\\r\\nX-Injected: yes'" "x.note === 'a\\u0000b\\u0007c'" "x['bad name'] === 'x'" \
    "x['X-Evil\\r\\nFoo'] === 'y'" "JSON.stringify(x.nested) === '{\"a\":[1,2]}'" \
    "JSON.stringify(x.list) === '[\"x\",\"y\"]'" "x.num === 42" "x.flag === true"
http "$S/big"
expect_status "/big: ~2 MiB active answer" 200 "x.active === true" "x.exp > now" \
    "raw.length > 2000000 && raw.length < 2200000"
http -H "Authorization: Basic $(basic a:b 'c d')" -H "$JSON_ACCEPT" --data-urlencode 'token=a+b/c=' "$S/echo-request?x=1"
expect_status "/echo-request reports what it saw" 200 "x.active === true" "x.exp > now" \
    "x.seen_method === 'POST'" "x.seen_body === 'token=a%2Bb%2Fc%3D'" \
    "x.seen_authorization === 'Basic ' + Buffer.from('a%3Ab:c+d').toString('base64')" \
    "x.seen_content_type === 'application/x-www-form-urlencoded'" "x.seen_accept === 'application/json'"
http "$S/slow?ms=1200"
expect_status "/slow?ms=1200 answers active" 200 "x.active === true"
t=$(curl -s -o /dev/null -w '%{time_total}' "$S/slow?ms=1200")
expect "/slow?ms=1200 took >= 1.2 s" 1 "$(node -e "console.log(+($t >= 1.2))")"
http -m 1 "$S/slow?ms=3000"; expect "/slow?ms=3000 with 1 s timeout times out" "000 28" "$CODE $RC"
http -m 2 "$S/hang";         expect "/hang never answers" "000 28" "$CODE $RC"
http -m 3 "$S/trickle"
expect "/trickle: 200, 2-4 bytes in 3 s, then timeout" "200 28 1" \
    "$CODE $RC $(( ${#BODY} >= 2 && ${#BODY} <= 4 ))"
http "$S/nowhere";       expect "unknown stub path: 404" 404 "$CODE"

echo "== dialects (stub -> real provider)"

ACT=${TOKEN[app-rw]}
DEAD=$REV
PING_GRANT='grant_type=urn:pingidentity.com:oauth2:grant_type:validate_bearer'
PING_BASIC="Authorization: Basic $(basic ping-rs ping-rs-secret)"

http -H "$PING_BASIC" -d "$PING_GRANT" --data-urlencode "token=$ACT" "$S/ping/as/token.oauth2"
expect_status "ping validate_bearer, Basic, active" 200 \
    "x.token_type === 'urn:pingidentity.com:oauth2:validated_token'" \
    "x.expires_in > 3500 && x.expires_in <= 3600" "x.client_id === 'app-rw'" "x.scope === 'read write'" \
    "x.access_token.Username === 'user-app-rw'" "x.access_token.OrgName === 'Acme'" \
    "JSON.stringify(x.access_token.group) === '[\"staff\",\"app-rw\"]'" "!('active' in x)"
http -d "$PING_GRANT" -d client_id=ping-rs -d client_secret=ping-rs-secret --data-urlencode "token=$ACT" "$S/ping/as/token.oauth2"
expect_status "ping validate_bearer, form post, active" 200 "x.client_id === 'app-rw'"
http -H "$PING_BASIC" -d "$PING_GRANT" --data-urlencode "token=$DEAD" "$S/ping/as/token.oauth2"
expect_status "ping: revoked token -> 400 invalid_grant" 400 "x.error === 'invalid_grant'"
http -H "$PING_BASIC" -d "$PING_GRANT" -d token=bogus "$S/ping/as/token.oauth2"
expect_status "ping: unknown token -> 400 invalid_grant" 400 "x.error === 'invalid_grant'"
http -H "Authorization: Basic $(basic ping-rs nope)" -d "$PING_GRANT" --data-urlencode "token=$ACT" "$S/ping/as/token.oauth2"
expect_status "ping: wrong credentials -> 401 invalid_client" 401 "x.error === 'invalid_client'"
http -d "$PING_GRANT" --data-urlencode "token=$ACT" "$S/ping/as/token.oauth2"
expect_status "ping: no credentials -> 401 invalid_client" 401 "x.error === 'invalid_client'"
http -H "$PING_BASIC" -d "$PING_GRANT" "$S/ping/as/token.oauth2"
expect_status "ping: missing token -> 400 invalid_request" 400 "x.error === 'invalid_request'"
http -H "$PING_BASIC" -d grant_type=client_credentials --data-urlencode "token=$ACT" "$S/ping/as/token.oauth2"
expect_status "ping: wrong grant_type -> 400 unsupported_grant_type" 400 "x.error === 'unsupported_grant_type'"

http "$S/openam/oauth2/tokeninfo?access_token=$ACT"
expect_status "openam tokeninfo, query, active" 200 \
    "x.access_token === '$ACT'" "x.grant_type === 'client_credentials'" "x.auth_level === 0" \
    "JSON.stringify(x.scope) === '[\"read\",\"write\"]'" "x.realm === '/'" "x.token_type === 'Bearer'" \
    "x.expires_in > 3500 && x.expires_in <= 3600" "x.client_id === 'app-rw'" \
    "x.uid === 'user-app-rw'" "x.mail === 'user-app-rw@example.com'" "x.read === ''" "x.write === ''"
http -H "Authorization: Bearer $ACT" "$S/openam/oauth2/tokeninfo"
expect_status "openam tokeninfo, Bearer header, active" 200 "x.client_id === 'app-rw'"
http -H "Authorization: Bearer $ACT" "$S/openam/oauth2/tokeninfo?access_token=$ACT"
expect_status "openam: token in header and query -> 400" 400 "x.error === 'invalid_request'"
http "$S/openam/oauth2/tokeninfo"
expect_status "openam: no token -> 401 invalid_token" 401 "x.error === 'invalid_token'"
http "$S/openam/oauth2/tokeninfo?access_token=$DEAD"
expect_status "openam: revoked token -> 401 invalid_token" 401 "x.error === 'invalid_token'" \
    "x.error_description === 'The access token provided is expired, revoked, malformed, or invalid for other reasons.'"
http "$S/openam/oauth2/tokeninfo?access_token=$SHORT"
expect_status "openam: expired token -> 401 invalid_token" 401 "x.error === 'invalid_token'"

http "$S/mule/validate?access_token=$ACT"
expect_status "mule validate, active" 200 "x.expires_in > 3500 && x.expires_in <= 3600" \
    "x.scope === 'read write'" "x.client_id === 'app-rw'" "x.username === 'user-app-rw'"
expect "mule content type" "application/json; charset=UTF-8" "$CTYPE"
http "$S/mule/validate?access_token=$NOSCOPE"
expect_status "mule validate, token without scope -> scope \"\"" 200 "x.scope === ''"
http "$S/mule/validate?access_token=$DEAD"
expect_status "mule validate, revoked -> 401" 401 "x.error === 'invalid_token'"
http "$S/mule/validate?access_token=$ACT&x=" -u mule-rs:mule-rs-secret
expect "mule validate ignores credentials" 200 "$CODE"
http "$S/mule/validate-auth?access_token=$ACT"
expect "mule validate-auth without credentials -> 401" 401 "$CODE"
http -u mule-rs:wrong "$S/mule/validate-auth?access_token=$ACT"
expect "mule validate-auth with wrong credentials -> 401" 401 "$CODE"
http -u mule-rs:mule-rs-secret "$S/mule/validate-auth?access_token=$ACT"
expect_status "mule validate-auth with credentials, active" 200 "x.client_id === 'app-rw'"
http -u mule-rs:mule-rs-secret "$S/mule/validate-auth?access_token=$DEAD"
expect "mule validate-auth with credentials, revoked -> 401" 401 "$CODE"

http "$S/__stats"
expect_status "stub /__stats counts per path" 200 \
    "x.requests['/ping/as/token.oauth2'] >= 8" "x.requests['/openam/oauth2/tokeninfo'] >= 6" \
    "x.requests['/mule/validate'] >= 4" "x.requests['/mule/validate-auth'] >= 4" \
    "x.requests['/inactive'] === $S_STATS0 + 1" "x.connections > 0"

echo "== echo ($E)"

E0=$(stat_of "$E" x.requests)
http -X PUT -H 'X-AGW-Client_Id: c1' -H 'x-mixed-CASE: v' -H 'X-Dup: 1' -H 'X-Dup: 2' "$E/some/path?q=1"
expect_status "echo returns method, url and raw headers" 200 \
    "x.method === 'PUT'" "x.url === '/some/path?q=1'" \
    "x.headers.some(([n, v]) => n === 'X-AGW-Client_Id' && v === 'c1')" \
    "x.headers.some(([n, v]) => n === 'x-mixed-CASE' && v === 'v')" \
    "x.headers.filter(([n]) => n === 'X-Dup').length === 2"
expect "echo /__stats counts requests" $((E0 + 1)) "$(stat_of "$E" x.requests)"

echo "== self-termination"

TP=$((EP + 10))
OA2F_ECHO_PORT=$TP OA2F_SERVER_LIFETIME=2 node "$HERE/echo.js" >/dev/null 2>&1 &
LPID=$!
sleep 3.5
kill -0 "$LPID" 2>/dev/null && bad "OA2F_SERVER_LIFETIME=2 ends echo.js" || ok "OA2F_SERVER_LIFETIME=2 ends echo.js"
sleep 600 &
PARENT=$!
OA2F_STUB_PORT=$TP OA2F_PARENT_PID=$PARENT node "$HERE/stub.js" >/dev/null 2>&1 &
CPID=$!
EXTRA_PIDS="$LPID $PARENT $CPID"
sleep 1.5
kill -0 "$CPID" 2>/dev/null && ok "stub.js runs while OA2F_PARENT_PID lives" || bad "stub.js runs while OA2F_PARENT_PID lives"
kill "$PARENT"
sleep 3
kill -0 "$CPID" 2>/dev/null && bad "stub.js exits after its parent died" || ok "stub.js exits after its parent died"

echo
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
