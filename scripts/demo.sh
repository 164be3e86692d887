#!/bin/sh
# A working demo on 127.0.0.1: a real OpenID Connect provider (node
# oidc-provider) issuing opaque tokens, httpd with mod_oauth2_federated
# protecting /api, and an echo backend behind mod_proxy that shows what
# it received.
#   scripts/demo.sh          install what is missing, build, start
#   scripts/demo.sh stop     stop everything the demo started
# Ports: OA2F_DEMO_PORT (httpd, 8080), OA2F_PROVIDER_PORT (18530),
# OA2F_STUB_PORT (18531), OA2F_ECHO_PORT (18532). Installs what
# "scripts/install-deps.sh demo" lists; changes no file of the checkout
# outside run/demo.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUN="$ROOT/run/demo"
PORT=${OA2F_DEMO_PORT:-8080}
: "${OA2F_PROVIDER_PORT:=18530}" "${OA2F_ECHO_PORT:=18532}"
export OA2F_PROVIDER_PORT OA2F_ECHO_PORT
PPORT=$OA2F_PROVIDER_PORT
EPORT=$OA2F_ECHO_PORT
APACHE=$(command -v apache2 || echo /usr/sbin/apache2)

stop() {
    if [ -f "$RUN/httpd.pid" ]; then
        pid=$(cat "$RUN/httpd.pid")
        kill "$pid" 2>/dev/null || true
        n=0
        while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do
            sleep 0.1; n=$((n + 1))
        done
    fi
    [ -d "$RUN/servers" ] && t/servers/stop.sh "$RUN/servers" || true
}

if [ "${1:-}" = stop ]; then
    stop
    echo "demo stopped"
    exit 0
fi

scripts/install-deps.sh demo
scripts/build.sh
stop
mkdir -p "$RUN/logs" "$RUN/servers"
# Nothing in the checkout changes mode: httpd's parent (root) opens the
# logs and loads the modules before its children switch to www-data, and
# the children read no file of the tree (/api is proxied, the status page
# is a handler).

# Servers stop by themselves after an hour.
OA2F_SERVER_LIFETIME=${OA2F_SERVER_LIFETIME:-3600} t/servers/start.sh "$RUN/servers"

MODS=/usr/lib/apache2/modules
cat > "$RUN/httpd.conf" <<CONF
ServerRoot "$RUN"
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
PidFile "$RUN/httpd.pid"
ErrorLog "$RUN/logs/error_log"
LogLevel warn oauth2_federated:info
LogFormat "%h %u \"%r\" %>s %D" short
CustomLog "$RUN/logs/access_log" short
User www-data
Group www-data
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authn_core_module $MODS/mod_authn_core.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule authz_host_module $MODS/mod_authz_host.so
LoadModule proxy_module $MODS/mod_proxy.so
LoadModule proxy_http_module $MODS/mod_proxy_http.so
LoadModule socache_shmcb_module $MODS/mod_socache_shmcb.so
LoadModule oauth2_federated_module $ROOT/.libs/mod_oauth2_federated.so

OAuth2FederatedCache shmcb

<Location /api>
    AuthType oauth2-federated
    AuthName "demo-api"
    OAuth2FederatedProvider     introspection
    OAuth2FederatedEndpoint     http://127.0.0.1:$PPORT/token/introspection
    OAuth2FederatedClientID     rs-other
    OAuth2FederatedClientSecret rs-other-secret
    Require oauth2-scope read
    ProxyPass http://127.0.0.1:$EPORT
</Location>

<Location /api/admin>
    Require oauth2-scope admin
</Location>

<Location /oauth2-status>
    SetHandler oauth2-federated-status
    Require ip 127.0.0.1
</Location>
CONF

"$APACHE" -f "$RUN/httpd.conf" -k start
sleep 1
cat <<MSG

mod_oauth2_federated demo is running on http://127.0.0.1:$PORT/
  provider (oidc-provider): http://127.0.0.1:$PPORT   backend (echo): 127.0.0.1:$EPORT
  config: $RUN/httpd.conf   logs: $RUN/logs/

Get a token (client app-rw has scopes "read write"):
  TOKEN=\$(curl -s -u app-rw:app-rw-secret -d grant_type=client_credentials \\
          -d 'scope=read write' http://127.0.0.1:$PPORT/token | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')

Call the API (the backend echoes the X-AGW-* headers it received):
  curl -s -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:$PORT/api/orders
  curl -s -i http://127.0.0.1:$PORT/api/orders                                  # 400: no token
  curl -s -i -H "Authorization: Bearer nope" http://127.0.0.1:$PORT/api/orders   # 401: not active
  curl -s -i -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:$PORT/api/admin # 403: no admin scope
  curl -s http://127.0.0.1:$PORT/oauth2-status                                  # counters

Stop it:  scripts/demo.sh stop
MSG
