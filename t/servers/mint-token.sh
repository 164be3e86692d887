#!/bin/sh
# Print a client_credentials access token from the test provider.
#   t/servers/mint-token.sh CLIENT SECRET [SCOPE]    e.g. app-rw app-rw-secret "read write"
# Uses client_secret_basic (id and secret form-encoded first, RFC 6749 §2.3.1).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 CLIENT SECRET [SCOPE]" >&2; exit 2; }
url="http://127.0.0.1:${OA2F_PROVIDER_PORT:-18530}/token"
basic=$(node -e '
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, "+");
  console.log(Buffer.from(enc(process.argv[1]) + ":" + enc(process.argv[2])).toString("base64"));
' "$1" "$2")
answer=$(curl -sS -H "Authorization: Basic $basic" -H 'Accept: application/json' \
    --data-urlencode grant_type=client_credentials ${3:+--data-urlencode "scope=$3"} "$url")
printf '%s' "$answer" | node -e '
  const a = JSON.parse(require("fs").readFileSync(0, "utf8"));
  if (!a.access_token) { console.error("mint-token.sh: " + JSON.stringify(a)); process.exit(1); }
  console.log(a.access_token);
'
