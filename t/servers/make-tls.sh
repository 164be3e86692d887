#!/bin/sh
# Self-signed certificates for the stub's TLS listeners (t/12_hostile.t):
#   DIR/wrong.{key,crt}  for the host name wrong.example (must be refused)
#   DIR/good.{key,crt}   for IP 127.0.0.1 and localhost (trusted via CAFile)
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
cd "$1"
mk() {
    [ -s "$1.crt" ] && return 0
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2" \
        -addext "subjectAltName=$3" -addext "basicConstraints=critical,CA:TRUE" \
        -keyout "$1.key" -out "$1.crt" >/dev/null 2>&1
}
mk wrong wrong.example "DNS:wrong.example"
mk good 127.0.0.1 "IP:127.0.0.1,DNS:localhost"
chmod a+r ./*.crt ./*.key
