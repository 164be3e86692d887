#!/usr/bin/env python3
"""Benchmark driver for mod_oauth2_federated (called by bench/run.sh).

Starts, on 127.0.0.1 only, an HTTPS RFC 7662 introspection endpoint
(bench/introspect.js) and four private httpd instances (mpm_event, identical
MPM and logging settings) that serve the same small static file:

  baseline          no authentication
  oauth2_federated  this module
  auth_openidc      mod_auth_openidc as an OAuth 2.0 resource server
  mod_oauth2        mod_oauth2 (liboauth2)

checks that each one really validates tokens, then runs the scenarios with
the configurations interleaved round by round and prints one table per
scenario. Raw outputs go to bench/out/, the tables to bench/out/summary.md.
Standard library only.
"""
import atexit
import concurrent.futures
import datetime
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
OUT = os.path.join(BENCH, "out")
MODS = "/usr/lib/apache2/modules"
BUILT_SO = os.environ.get("BENCH_MODULE") or os.path.join(ROOT, ".libs", "mod_oauth2_federated.so")
# the instances load a private copy, so that a rebuild during the run does
# not change the module under them
MODULE_SO = os.path.join(OUT, "mod_oauth2_federated.so")
# a second build for an A/B comparison in the same interleaved rounds: the
# fleet configuration oauth2_federated_b loads it (bench/README.md)
BUILT_B_SO = os.environ.get("BENCH_MODULE_B")
MODULE_B_SO = os.path.join(OUT, "mod_oauth2_federated_b.so")
HZ = os.sysconf("SC_CLK_TCK")
QUICK = "--quick" in sys.argv[1:]


def env_int(name, default, quick=None):
    v = os.environ.get(name)
    if v not in (None, ""):
        return int(float(v))
    return quick if (QUICK and quick is not None) else default


def env_str(name, default, quick=None):
    v = os.environ.get(name)
    if v not in (None, ""):
        return v
    return quick if (QUICK and quick is not None) else default


# ---- knobs (environment; --quick changes the defaults) ---------------------
ROUNDS = env_int("BENCH_ROUNDS", 5, 3)
DURATION = env_int("BENCH_DURATION", 5, 2)           # s, hot / hot-scope / hot-many
COLD_DURATION = env_int("BENCH_COLD_DURATION", 4, 2)  # s
WARMUP = env_int("BENCH_WARMUP", 1)                   # s before each measured run
CONNS = env_int("BENCH_CONNECTIONS", 16)
THREADS = env_int("BENCH_THREADS", 1)
MANY = env_int("BENCH_MANY_TOKENS", 10000, 1000)
HERD_N = env_int("BENCH_HERD_N", 50)
HERD_DELAYS = [int(x) for x in env_str("BENCH_HERD_DELAYS", "0,100").split(",") if x != ""]
MEM_HOT = env_int("BENCH_MEM_HOT", 1000000, 100000)
MEM_DISTINCT = env_int("BENCH_MEM_DISTINCT", 100000, 10000)
MEM_PARTS = max(2, env_int("BENCH_MEM_PARTS", 2))  # snapshots during the distinct tokens
MEM_WARM_COLD = env_int("BENCH_MEM_WARM_COLD", 8, 3)  # s of new tokens in the warm-up
PORT_BASE = env_int("BENCH_PORT_BASE", 19100)
SCENARIOS = env_str("BENCH_SCENARIOS", "hot,hot-scope,hot-many,cold,herd,outage,memory",
                    "hot,hot-many,cold,herd,outage,memory").split(",")
# Sealed entries and keyed names, as a production configuration has them
# (README "Trust boundaries"); BENCH_CACHE_SECRET= (empty) measures without.
CACHE_SECRET = os.environ.get("BENCH_CACHE_SECRET", "bench-cache-secret-0123456789")
# The resource identity checks (README "Resource identity"): this module's
# locations name a Resource (so the audience must contain it) and an
# Issuer, and the endpoint's answers carry aud and iss; BENCH_RESOURCE=
# (empty) measures without.
RESOURCE = os.environ.get("BENCH_RESOURCE", "https://bench.example/api")
ISSUER = "https://bench.example"
# README "Outages" and "Revocation" as a production configuration has them:
# stale verdicts for a minute past a 5-minute reuse time, the circuit
# breaker (default 5 10), and revocation rules in the table while the hot
# paths are measured (BENCH_RULES of each kind, for other subjects and
# clients); BENCH_OUTAGE_MODE=0 measures without any of it.
OUTAGE_MODE = env_int("BENCH_OUTAGE_MODE", 1)
RULES = env_int("BENCH_RULES", 20)
OUTAGE_DURATION = env_int("BENCH_OUTAGE_DURATION", 8, 5)
OUTAGE_DELAY_MS = env_int("BENCH_OUTAGE_DELAY_MS", 60000)
PATH_OUTAGE = "/outage/hello.txt"          # the breaker, default 5 10
PATH_OUTAGE_OFF = "/outage-off/hello.txt"  # OAuth2FederatedCircuitBreaker Off
ALL_CONFIGS = ["baseline", "oauth2_federated", "auth_openidc", "mod_oauth2"]
CONFIGS = [c for c in env_str("BENCH_CONFIGS", ",".join(ALL_CONFIGS)).split(",") if c]
MEM_CONFIGS = env_str("BENCH_MEMORY_CONFIGS", "baseline,oauth2_federated")
MEM_CONFIGS = CONFIGS if MEM_CONFIGS == "all" else [c for c in MEM_CONFIGS.split(",") if c in CONFIGS]
LIFETIME = env_int("BENCH_LIFETIME", 3600)
MANY_WARM_MAX = env_int("BENCH_MANY_WARM_MAX", 60, 30)  # s per configuration

# ---- fleet (issue 15) and JWT / phantom-token (issue 16) scenarios ----------
# BENCH_SCENARIOS=fleet and =jwt name these groups (README "Scenarios").
SCENARIO_GROUPS = {
    "fleet": ["fleet-many", "fleet-cold", "fleet-cross", "fleet-herd"],
    "jwt": ["jwt-hot", "jwt-many", "jwt-cold", "phantom", "phantom-many"],
}
SCENARIOS = [x for s in SCENARIOS for x in SCENARIO_GROUPS.get(s.strip(), [s.strip()])]
FLEET_MANY = [int(x) for x in env_str("BENCH_FLEET_MANY", "2000,20000", "2000,5000").split(",")
              if x.strip()]
FLEET_CROSS_N = env_int("BENCH_FLEET_CROSS_N", 200, 100)   # tokens per round, A then B
FLEET_NEAR_CACHE = env_str("BENCH_FLEET_NEAR_CACHE", "")     # "": the default (fleet-many: sized for its tokens)
JWT_MANY = env_int("BENCH_JWT_MANY", 2000, 1000)
JWT_COLD_TOKENS = env_int("BENCH_JWT_COLD_TOKENS", 120000, 20000)  # per round, shared by the configs
JWT_ALG = env_str("BENCH_JWT_ALG", "RS256")                  # ES256 or RS256: the issuer's key
JWT_WARM = env_int("BENCH_JWT_WARM", 3, 2)                   # s: jwt-many / phantom-many warm-up
PHANTOM_MANY = env_int("BENCH_PHANTOM_MANY", 2000, 1000)
# the redis / memcached of the fleet scenarios and the plain-HTTP JWKS
# port of the endpoint; new instances from PORT_BASE + 10 on
JWKS_PORT = env_int("BENCH_JWKS_PORT", PORT_BASE + 5)
REDIS_PORT = env_int("BENCH_REDIS_PORT", PORT_BASE + 6)
MEMCACHED_PORT = env_int("BENCH_MEMCACHED_PORT", PORT_BASE + 7)
XPORT_BASE = PORT_BASE + 10
FLEET_ALL = ["baseline", "oauth2_federated", "oauth2_federated_nonear",
             "oauth2_federated_memcache", "auth_openidc", "mod_oauth2"]
JWT_ALL = ["baseline", "oauth2_federated_jwt", "auth_openidc_jwt", "mod_oauth2_jwt"]
PHANTOM_ALL = ["baseline", "oauth2_federated", "oauth2_federated_phantom", "auth_openidc",
               "mod_oauth2"]


def family(c):
    """The BENCH_CONFIGS name a configuration of the new scenarios belongs to."""
    for f in ("oauth2_federated", "auth_openidc", "mod_oauth2", "baseline"):
        if c.startswith(f):
            return f
    return c


def pick(default_all, var):
    names = [c for c in env_str(var, ",".join(default_all)).split(",") if c]
    return [c for c in names if family(c) in CONFIGS]


ANCHORS = [c for c in ("auth_openidc", "mod_oauth2") if c in CONFIGS]
SUBJECT = "oauth2_federated"
FLEET_CONFIGS = pick(FLEET_ALL, "BENCH_FLEET_CONFIGS")
JWT_CONFIGS = pick(JWT_ALL, "BENCH_JWT_CONFIGS")
PHANTOM_CONFIGS = pick(PHANTOM_ALL, "BENCH_PHANTOM_CONFIGS")
LABEL = {
    "baseline": "baseline (no auth)",
    "oauth2_federated": "mod_oauth2_federated",
    "auth_openidc": "mod_auth_openidc",
    "mod_oauth2": "mod_oauth2",
}
SHORT = {"baseline": "base", "oauth2_federated": "oa2f", "auth_openidc": "openidc", "mod_oauth2": "oauth2"}
# the configurations of the new scenarios: label per scenario family, short tag
XLABEL = {
    "fleet": {
        "baseline": "baseline (no auth), A + B",
        "oauth2_federated": "mod_oauth2_federated, redis, near cache (default)",
        "oauth2_federated_nonear": "mod_oauth2_federated, redis, `NearCache Off`",
        "oauth2_federated_memcache": "mod_oauth2_federated, memcached, near cache (default)",
        "oauth2_federated_b": "mod_oauth2_federated from BENCH_MODULE_B, redis, near cache (default)",
        "auth_openidc": "mod_auth_openidc, redis",
        "mod_oauth2": "mod_oauth2, redis",
    },
    "jwt": {
        "baseline": "baseline (no auth)",
        "oauth2_federated_jwt": "mod_oauth2_federated, `LocalJWT On`",
        "auth_openidc_jwt": "mod_auth_openidc, `OIDCOAuthVerifyJwksUri`",
        "mod_oauth2_jwt": "mod_oauth2, `OAuth2TokenVerify jwks_uri`",
    },
    "phantom": {
        "baseline": "baseline (no auth)",
        "oauth2_federated": "mod_oauth2_federated (no ForwardJWT)",
        "oauth2_federated_phantom": "mod_oauth2_federated, `ForwardJWT Authorization`",
        "auth_openidc": "mod_auth_openidc",
        "mod_oauth2": "mod_oauth2",
    },
}
XSHORT = {"baseline": "base", "oauth2_federated": "oa2f", "oauth2_federated_nonear": "nonear",
          "oauth2_federated_memcache": "mc", "oauth2_federated_b": "oa2fb",
          "auth_openidc": "openidc", "mod_oauth2": "oauth2",
          "oauth2_federated_jwt": "oa2fjwt", "auth_openidc_jwt": "oidcjwt",
          "mod_oauth2_jwt": "oa2jwt", "oauth2_federated_phantom": "phantom"}
XKIND = {c: ("baseline" if family(c) == "baseline" else "oa2f" if family(c) == "oauth2_federated"
             else "openidc" if family(c) == "auth_openidc" else "oauth2") for c in XSHORT}
XANCHORS = {"fleet": ["auth_openidc", "mod_oauth2"], "jwt": ["auth_openidc_jwt", "mod_oauth2_jwt"],
            "phantom": ["auth_openidc", "mod_oauth2"]}
XSUBJECT = {"fleet": "oauth2_federated", "jwt": "oauth2_federated_jwt",
            "phantom": "oauth2_federated_phantom"}
PORTS = {c: PORT_BASE + 1 + i for i, c in enumerate(ALL_CONFIGS)}
INTROSPECT_PORT = PORT_BASE
ENDPOINT = f"https://127.0.0.1:{INTROSPECT_PORT}/introspect"
CLIENT_ID, CLIENT_SECRET = "bench", "bench-secret"
HOT_TOKEN = "tokhot" + "Z3kPq7Lr2Vt5Ws8Nb4Hc6Jd1Fg0Yx9QmA7sD2fG5hJ8kL"
PATH_VU = "/vu/hello.txt"        # Require valid-user
PATH_SCOPE = "/scope/hello.txt"  # Require <scope read>
RUN_ID = time.strftime("%H%M%S")

TLS = os.path.join(OUT, "tls")
HTDOCS = os.path.join(OUT, "htdocs")
RAW = os.path.join(OUT, "raw")
INST = os.path.join(OUT, "inst")

started = []        # subprocess.Popen objects we started (stopped at exit)
introspect_pid = None
results = {"scenarios": {}}
log_file = None


def log(msg):
    line = f"[{time.strftime('%H:%M:%S')}] {msg}"
    print(line, flush=True)
    if log_file:
        log_file.write(line + "\n")
        log_file.flush()


def die(msg):
    log("ABORT: " + msg)
    sys.exit(1)


# ---- processes --------------------------------------------------------------

def stop_proc(p, timeout=10):
    if p.poll() is not None:
        return
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=5)
    except ProcessLookupError:
        pass


def cleanup():
    for p in reversed(started):
        stop_proc(p)
    started.clear()


atexit.register(cleanup)


def on_signal(signum, frame):
    log(f"signal {signum}: stopping")
    cleanup()
    sys.exit(130)


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGHUP, on_signal)


def children_of(pid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            kids.append(int(d))
    return sorted(kids)


def cpu_ticks(pid, with_reaped=False):
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except OSError:
        return 0
    fields = st[st.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime=14 stime=15 cutime=16 cstime=17
    t = int(fields[11]) + int(fields[12])
    if with_reaped:
        t += int(fields[13]) + int(fields[14])
    return t


def ctx_switches(pid):
    """Voluntary + involuntary context switches of every thread of pid."""
    n = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        n += int(line.split()[1])
        except OSError:
            pass
    return n


def machine_ticks():
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v) - idle, sum(v)


def proc_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def wait_port(port, timeout=15.0, proc=None):
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


# ---- TLS material, documents -------------------------------------------------

def make_tls():
    os.makedirs(TLS, exist_ok=True)
    ca, cakey = os.path.join(TLS, "ca.pem"), os.path.join(TLS, "ca.key")
    crt, key = os.path.join(TLS, "server.pem"), os.path.join(TLS, "server.key")
    if all(os.path.exists(x) for x in (ca, cakey, crt, key)):
        return
    def run(*a):
        subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", cakey,
        "-out", ca, "-days", "3650", "-subj", "/CN=mod_oauth2_federated bench CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    csr = os.path.join(TLS, "server.csr")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=127.0.0.1")
    ext = os.path.join(TLS, "server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey, "-CAcreateserial",
        "-out", crt, "-days", "3650", "-extfile", ext)


def make_htdocs():
    body = "hello from the mod_oauth2_federated benchmark\n"  # 46 bytes
    for d in ("", "vu", "scope", "outage", "outage-off", "phantom-check"):
        os.makedirs(os.path.join(HTDOCS, d), exist_ok=True)
        with open(os.path.join(HTDOCS, d, "hello.txt"), "w") as f:
            f.write(body)


# ---- the introspection endpoint ----------------------------------------------

def introspect_ctx():
    return ssl.create_default_context(cafile=os.path.join(TLS, "ca.pem"))


def introspect_req(method, path):
    c = http.client.HTTPSConnection("127.0.0.1", INTROSPECT_PORT, timeout=10,
                                    context=introspect_ctx())
    c.request(method, path)
    r = c.getresponse()
    data = r.read()
    c.close()
    return json.loads(data)


def istats():
    return introspect_req("GET", "/__stats")


def set_delay(ms):
    introspect_req("POST", f"/__delay?ms={ms}")


def start_introspect():
    env = dict(os.environ, BENCH_INTROSPECT_PORT=str(INTROSPECT_PORT),
               BENCH_TLS_CERT=os.path.join(TLS, "server.pem"),
               BENCH_TLS_KEY=os.path.join(TLS, "server.key"),
               BENCH_CLIENT_ID=CLIENT_ID, BENCH_CLIENT_SECRET=CLIENT_SECRET,
               BENCH_LIFETIME=str(LIFETIME), BENCH_PARENT_PID=str(os.getpid()),
               BENCH_JWKS_FILE=os.path.join(JWT_DIR, "jwks.json"), BENCH_JWKS_PORT=str(JWKS_PORT))
    logf = open(os.path.join(OUT, "introspect.log"), "w")
    p = subprocess.Popen(["node", os.path.join(BENCH, "introspect.js")], env=env,
                         stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    started.append(p)
    global introspect_pid
    introspect_pid = p.pid
    if not wait_port(INTROSPECT_PORT, 10, p):
        die("the introspection endpoint did not start (see bench/out/introspect.log)")
    return p


# ---- httpd configurations -----------------------------------------------------

def common_conf(name, label=None, port=None, d=None, extra_modules=""):
    d = d or os.path.join(INST, name)
    return f"""# {label or LABEL[name]} -- generated by bench/bench.py
ServerRoot "{d}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port or PORTS[name]}
PidFile "{d}/httpd.pid"
DefaultRuntimeDir "{d}/run"
ErrorLog "{d}/error_log"
LogLevel warn
User www-data
Group www-data

LoadModule mpm_event_module {MODS}/mod_mpm_event.so
LoadModule authn_core_module {MODS}/mod_authn_core.so
LoadModule authz_core_module {MODS}/mod_authz_core.so
LoadModule authz_host_module {MODS}/mod_authz_host.so
LoadModule authz_user_module {MODS}/mod_authz_user.so
LoadModule mime_module {MODS}/mod_mime.so
LoadModule socache_shmcb_module {MODS}/mod_socache_shmcb.so
{extra_modules}TypesConfig /etc/mime.types

# identical MPM and connection settings for every instance: two children
# of 32 threads that are never recycled, unlimited keep-alive requests
StartServers 2
ServerLimit 2
ThreadLimit 32
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 32
MaxSpareThreads 64
MaxConnectionsPerChild 0
ListenBacklog 511
Timeout 30
KeepAlive On
KeepAliveTimeout 30
MaxKeepAliveRequests 0
# no access log anywhere

<Directory />
    Options None
    AllowOverride None
    Require all denied
</Directory>
DocumentRoot "{HTDOCS}"
<Directory "{HTDOCS}">
    Options None
    AllowOverride None
    Require all granted
</Directory>
"""


def oa2f_conf(spec, server_extra="", loc_extra="", issuer=False, outage=None):
    """This module's part of an instance's configuration: the cache, the
    /vu/ and /scope/ locations (with loc_extra inside each), /outage*/
    under BENCH_OUTAGE_MODE, the status and revoke handlers."""
    outage = OUTAGE_MODE if outage is None else outage
    ca = os.path.join(TLS, "ca.pem")
    blocks = []
    identity = (f"    OAuth2FederatedResource     {RESOURCE}\n"
                f"    OAuth2FederatedIssuer       {ISSUER}\n"
                if RESOURCE else
                f"    OAuth2FederatedIssuer       {ISSUER}\n" if issuer else "")
    if outage:
        identity += ("    OAuth2FederatedCacheMaxTTL  300\n"
                     "    OAuth2FederatedStaleIfError 60\n")
    identity += loc_extra
    locs = [("/vu", "Require valid-user"), ("/scope", "Require oauth2-scope read")]
    if outage:
        locs += [("/outage", "Require valid-user"),
                 ("/outage-off", "OAuth2FederatedCircuitBreaker Off\n    Require valid-user")]
    for loc, req in locs:
        blocks.append(f"""<Location {loc}>
    AuthType oauth2-federated
    AuthName "bench"
    OAuth2FederatedProvider     introspection
    OAuth2FederatedEndpoint     {ENDPOINT}
    OAuth2FederatedClientID     {CLIENT_ID}
    OAuth2FederatedClientSecret {CLIENT_SECRET}
    OAuth2FederatedCAFile       "{ca}"
{identity}    {req}
</Location>""")
    secret = (f"OAuth2FederatedCacheSecret {CACHE_SECRET}\n"
              if CACHE_SECRET else "")
    if not spec.startswith("shmcb") and not secret:
        # redis / memcache: start-up fails without one (README "Cache")
        secret = "OAuth2FederatedCacheSecret bench-fleet-secret-0123456789\n"
    return f"""
LoadModule oauth2_federated_module {MODULE_SO}
OAuth2FederatedCache {spec}
{secret}{server_extra}""" + "\n".join(blocks) + """
<Location /oauth2-status>
    SetHandler oauth2-federated-status
    Require ip 127.0.0.1
</Location>
<Location /oauth2-revoke>
    SetHandler oauth2-federated-revoke
    Require ip 127.0.0.1
</Location>
"""


def conf_for(name, sizes):
    """sizes: per-scenario cache capacity (None = each module's default)."""
    c = common_conf(name)
    ca = os.path.join(TLS, "ca.pem")
    if name == "baseline":
        return c
    if name == "oauth2_federated":
        spec = "shmcb" if not sizes else f"shmcb:({sizes['shmcb_bytes']})"
        return c + oa2f_conf(spec)
    if name == "auth_openidc":
        shm = "" if not sizes else f"OIDCCacheShmMax {sizes['entries']}\n"
        return c + f"""
LoadModule auth_openidc_module {MODS}/mod_auth_openidc.so
OIDCOAuthIntrospectionEndpoint {ENDPOINT}
OIDCOAuthIntrospectionEndpointAuth client_secret_basic
OIDCOAuthClientID {CLIENT_ID}
OIDCOAuthClientSecret {CLIENT_SECRET}
OIDCCABundlePath "{ca}"
OIDCOAuthSSLValidateServer On
OIDCCacheType shm
{shm}<Location /vu>
    AuthType oauth20
    AuthName "bench"
    Require valid-user
</Location>
<Location /scope>
    AuthType oauth20
    AuthName "bench"
    Require claim scope~\\\\bread\\\\b
</Location>
"""
    if name == "mod_oauth2":
        opts = "" if not sizes else f" max_entries={sizes['entries']}"
        verify = (f"OAuth2TokenVerify introspect {ENDPOINT} "
                  f"introspect.ssl_verify=false&introspect.auth=client_secret_basic"
                  f"&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}")
        return c + f"""
LoadModule oauth2_module {MODS}/mod_oauth2.so
OAuth2Cache shm{opts}
<Location /vu>
    AuthType oauth2
    AuthName "bench"
    {verify}
    Require valid-user
</Location>
<Location /scope>
    AuthType oauth2
    AuthName "bench"
    {verify}
    # mod_oauth2 3.3.1 matches claim values exactly (no regex, no word
    # match), so the scope variant requires the whole scope string
    Require oauth2_claim "scope:read write"
</Location>
"""
    raise ValueError(name)


APACHE = shutil.which("apache2") or "/usr/sbin/apache2"


class SkipConfig(Exception):
    """A configuration of the new scenarios that this build cannot run
    (apachectl -t fails, typically a directive of a feature not merged
    yet) or that failed its validity check: skipped, the run goes on."""


def skip_reason(text):
    m = re.search(r"Invalid command '([^']+)'", text)
    if m:
        return (f"this build does not know `{m.group(1)}` (apachectl -t: Invalid command; "
                f"the feature is not in this build yet)")
    lines = [l.strip() for l in text.splitlines() if l.strip() and "Syntax OK" not in l]
    return "apachectl -t failed: " + " / ".join(lines[:3])


class Instance:
    def __init__(self, name, sizes, port=None, dirname=None, conf_fn=None, kind=None,
                 short=None, label=None):
        self.name = name
        self.port = port or PORTS[name]
        self.dir = os.path.join(INST, dirname or name)
        self.proc = None
        self.sizes = sizes
        # conf_fn(instance) -> httpd.conf text (the new scenarios); default:
        # conf_for(name, sizes)
        self.conf_fn = conf_fn
        self.kind = kind or XKIND.get(name, "oa2f")
        self.short = short or SHORT.get(name) or XSHORT.get(name, name)
        self.label = label or LABEL.get(name, name)

    def start(self, skippable=False):
        os.makedirs(os.path.join(self.dir, "run"), exist_ok=True)
        conf = os.path.join(self.dir, "httpd.conf")
        with open(conf, "w") as f:
            f.write(self.conf_fn(self) if self.conf_fn else conf_for(self.name, self.sizes))
        el = os.path.join(self.dir, "error_log")
        if os.path.exists(el):
            os.rename(el, el + ".prev")
        subprocess.run(["chmod", "-R", "a+rX", OUT], check=False)
        t = subprocess.run([APACHE, "-t", "-f", conf], capture_output=True, text=True)
        if t.returncode != 0:
            if skippable:
                raise SkipConfig(skip_reason(t.stdout + t.stderr))
            die(f"{self.name}: configuration test failed:\n{t.stdout}{t.stderr}")
        errf = open(os.path.join(self.dir, "stderr.log"), "a")
        self.proc = subprocess.Popen([APACHE, "-f", conf, "-DFOREGROUND"], stdout=errf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        started.append(self.proc)
        if not wait_port(self.port, 20, self.proc):
            if skippable:
                self.stop()
                raise SkipConfig("httpd did not start: " + self.error_tail(3).strip())
            die(f"{self.name}: httpd did not start; {self.dir}/error_log:\n" + self.error_tail())
        # both children up
        end = time.time() + 10
        while time.time() < end and len(children_of(self.proc.pid)) < 2:
            time.sleep(0.1)

    def error_tail(self, n=20):
        try:
            with open(os.path.join(self.dir, "error_log")) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no error_log)"

    def error_lines(self):
        try:
            with open(os.path.join(self.dir, "error_log")) as f:
                return [l for l in f if "AH00489" not in l and "AH00094" not in l
                        and "AH00491" not in l and "AH00492" not in l and "AH00493" not in l]
        except OSError:
            return []

    def stop(self):
        if self.proc:
            stop_proc(self.proc)
            if self.proc in started:
                started.remove(self.proc)
            self.proc = None

    def pids(self):
        return [self.proc.pid] + children_of(self.proc.pid)

    def cpu(self):
        kids = children_of(self.proc.pid)
        return cpu_ticks(self.proc.pid, with_reaped=True) + sum(cpu_ticks(k) for k in kids)

    def ctx(self):
        return sum(ctx_switches(p) for p in self.pids())

    def mem(self):
        kids = children_of(self.proc.pid)
        per = [proc_status(k) for k in kids]
        tot = {k: sum(p.get(k, 0) for p in per) for k in ("VmRSS", "RssAnon", "RssShmem", "RssFile")}
        # shared memory is mapped by every child: the largest child's share
        # is the real size, the sum counts it once per child
        tot["RssShmemMax"] = max((p.get("RssShmem", 0) for p in per), default=0)
        return {"children": len(kids), "per_child": per, **tot}

    def oa2f_status(self):
        if self.kind != "oa2f":
            return None
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            c.request("GET", "/oauth2-status?json")
            r = c.getresponse()
            data = r.read()
            c.close()
            return json.loads(data)
        except Exception as e:  # noqa: BLE001 - diagnostics only
            return {"error": str(e)}


def http_get(port, path, token=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    h = {"Authorization": f"Bearer {token}"} if token else {}
    c.request("GET", path, headers=h)
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def http_post_form(port, path, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    c.request("POST", path, body=body,
              headers={"Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def add_rules(inst):
    """Revocation rules for other subjects and clients (README
    "Revocation"), so that every cached request of the measured runs
    consults a non-empty rule table."""
    bad = [st for i in range(RULES) for st in (
        http_post_form(inst.port, "/oauth2-revoke", f"sub=bench-other-{RUN_ID}-{i}"),
        http_post_form(inst.port, "/oauth2-revoke", f"client_id=bench-other-{RUN_ID}-{i}"))
        if st != 204]
    if bad:
        die(f"{inst.name}: the revoke handler answered {bad[:5]}\n" + inst.error_tail())


def check_validates(inst, skippable=False):
    """Abort unless the instance really validates (or, for the baseline,
    serves without validation)."""
    port = inst.port
    s0 = istats()
    tag = f"tokcheck{RUN_ID}{inst.short}{int(time.time() * 1000) % 100000}"
    checks = []
    if inst.kind == "baseline":
        checks = [(PATH_VU, tag, (200,)), (PATH_SCOPE, "garbage-token", (200,))]
    else:
        checks = [
            (PATH_VU, "badtoken" + tag, (401,)),
            (PATH_SCOPE, "badtoken" + tag, (401,)),
            (PATH_VU, tag, (200,)),
            (PATH_SCOPE, tag, (200,)),
            (PATH_VU, tag, (200,)),                  # again, from the cache
            (PATH_SCOPE, "toknoread" + tag, (401, 403)),
            (PATH_VU, "toknoread" + tag, (200,)),
            (PATH_VU, None, (400, 401)),
        ]
        if inst.kind == "oa2f" and RESOURCE:
            # "tokotheraud..." tokens are for another resource only
            checks.append((PATH_VU, "tokotheraud" + tag, (401,)))
    bad = []
    for path, tok, want in checks:
        st = http_get(port, path, tok)
        if st not in want:
            bad.append(f"GET {path} token={tok!r}: {st}, expected {want}")
    s1 = istats()
    if inst.kind != "baseline":
        if s1["unauthorized"] != s0["unauthorized"]:
            bad.append("the introspection endpoint refused its client credentials")
        if s1["calls"] == s0["calls"]:
            bad.append("no provider call was made")
    if bad:
        msg = (f"{inst.name} does not validate as expected:\n  " + "\n  ".join(bad)
               + f"\n{inst.dir}/error_log:\n" + inst.error_tail())
        if skippable:
            raise SkipConfig("validity check failed: " + "; ".join(bad[:3]))
        die(msg)
    return s1["calls"] - s0["calls"]


# ---- load generation -----------------------------------------------------------

def parse_dur_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", s)
    if not m:
        return None
    v = float(m.group(1))
    return {"us": v / 1000, "ms": v, "s": v * 1000, "m": v * 60000}[m.group(2)]


def wrk(port, path, script, duration, envx=None, raw_name=None, conns=None, threads=None):
    env = dict(os.environ, **(envx or {}))
    cmd = ["wrk", f"-t{threads or THREADS}", f"-c{conns or CONNS}", f"-d{duration}s", "--latency",
           "--timeout", "10s",
           "-s", os.path.join(BENCH, "lua", script), f"http://127.0.0.1:{port}{path}"]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=duration + 60)
    out = p.stdout + p.stderr
    if raw_name:
        os.makedirs(os.path.dirname(raw_name), exist_ok=True)
        with open(raw_name, "w") as f:
            f.write(" ".join(cmd) + "\n" + out)
    r = {"requests": 0, "rps": 0.0, "p50_ms": None, "p99_ms": None, "non2xx": 0, "sock_err": 0,
         "seconds": duration}
    m = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    if m:
        r["requests"] = int(m.group(1))
        r["seconds"] = parse_dur_ms(m.group(2) + m.group(3)) / 1000
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        r["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        if m:
            r[key] = parse_dur_ms(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        r["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r["sock_err"] = sum(int(x) for x in m.groups())
    if p.returncode != 0 or r["requests"] == 0:
        log(f"wrk problem (rc {p.returncode}): {out[-500:]}")
    return r


def measured(inst, fn, backend=None):
    """Run fn() and add httpd CPU per request and provider calls to its
    result (and, with backend "redis" / "memcache", the commands the shared
    cache served meanwhile)."""
    b0 = backend_stats(backend)
    s0 = istats()
    st0 = inst.oa2f_status()
    c0, x0, m0 = inst.cpu(), inst.ctx(), machine_ticks()
    n0 = cpu_ticks(introspect_pid) if introspect_pid else 0
    w0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = fn()
    w1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c1, x1, m1 = inst.cpu(), inst.ctx(), machine_ticks()
    n1 = cpu_ticks(introspect_pid) if introspect_pid else 0
    # CPU the rest of the (shared) machine used meanwhile, in cores: all
    # busy time minus httpd, the endpoint and the load generator
    ours = (c1 - c0) / HZ + (n1 - n0) / HZ + (w1.ru_utime + w1.ru_stime - w0.ru_utime - w0.ru_stime)
    wall = (m1[1] - m0[1]) / HZ / (os.cpu_count() or 1)
    r["client_cpu_s"] = w1.ru_utime + w1.ru_stime - w0.ru_utime - w0.ru_stime
    r["provider_cpu_s"] = (n1 - n0) / HZ
    r["other_load_cores"] = max(0.0, ((m1[0] - m0[0]) / HZ - ours) / wall) if wall > 0 else None
    s1 = istats()
    st1 = inst.oa2f_status()
    r["cpu_s"] = (c1 - c0) / HZ
    r["ctx_per_req"] = ((x1 - x0) / r["requests"]) if r.get("requests") else None
    r["machine_busy"] = ((m1[0] - m0[0]) / (m1[1] - m0[1])) if m1[1] > m0[1] else None
    r["cpu_us_per_req"] = (r["cpu_s"] * 1e6 / r["requests"]) if r.get("requests") else None
    r["provider_calls"] = s1["calls"] - s0["calls"]
    r["provider_conns"] = s1["connections"] - s0["connections"]
    r["provider_unauthorized"] = s1["unauthorized"] - s0["unauthorized"]
    r["jwks_fetches"] = s1.get("jwks_fetches", 0) - s0.get("jwks_fetches", 0)
    if st0 and st1 and "error" not in st0 and "error" not in st1:
        r["module_status_delta"] = diff_status(st0, st1)
    if backend:
        d = backend_delta(b0, backend_stats(backend))
        r["backend"] = backend
        r["backend_cmds"] = d
        n = sum(d.values())
        r["backend_cmds_total"] = n
        r["backend_cmds_per_req"] = (n / r["requests"]) if r.get("requests") else None
    return r


def diff_status(a, b):
    out = {}
    for k, v in b.items():
        if isinstance(v, (int, float)) and isinstance(a.get(k), (int, float)):
            if v != a[k]:
                out[k] = v - a[k]
        elif isinstance(v, dict) and isinstance(a.get(k), dict):
            d = diff_status(a[k], v)
            if d:
                out[k] = d
    return out


# ---- scenarios -----------------------------------------------------------------

def start_instances(sizes=None, check=True):
    insts = {}
    for name in CONFIGS:
        i = Instance(name, sizes)
        i.start()
        insts[name] = i
    if check:
        for name, i in insts.items():
            check_validates(i)
        if OUTAGE_MODE and "oauth2_federated" in insts:
            add_rules(insts["oauth2_federated"])
        log("validity check passed: " + ", ".join(
            f"{n}: bad token 401, good token 200, missing scope refused" if n != "baseline"
            else "baseline: 200 without validation" for n in insts))
    return insts


def stop_instances(insts, scenario):
    errs = {}
    for name, i in insts.items():
        lines = i.error_lines()
        errs[name] = len(lines)
        if lines:
            with open(os.path.join(RAW, scenario, f"error_log.{name}"), "w") as f:
                f.writelines(lines[-200:])
        i.stop()
    return errs


def scenario_throughput(scn, path, script, duration, sizes=None, envx_fn=None, warm=None):
    """hot / hot-scope / hot-many / cold: wrk runs, configurations interleaved."""
    log(f"== {scn}: {len(CONFIGS)} configurations x {ROUNDS} rounds, {duration} s each, "
        f"{THREADS} thread(s), {CONNS} connections")
    insts = start_instances(sizes)
    if warm:
        for name in CONFIGS:
            warm(insts[name])
    trials = {c: [] for c in CONFIGS}
    for rnd in range(1, ROUNDS + 1):
        for name in CONFIGS:
            inst = insts[name]
            envx = envx_fn(name, rnd) if envx_fn else {}
            if WARMUP > 0 and scn != "cold":
                wrk(inst.port, path, script, WARMUP, envx)
            elif WARMUP > 0:
                # cold: warm the connection path with other never-seen tokens
                wrk(inst.port, path, script, WARMUP, dict(envx, BENCH_RUN=envx["BENCH_RUN"] + "w"))
            raw = os.path.join(RAW, scn, f"r{rnd}-{name}.txt")
            r = measured(inst, lambda: wrk(inst.port, path, script, duration, envx, raw))
            r["round"] = rnd
            trials[name].append(r)
            log(f"  round {rnd} {name:17s} {r['rps']:9.0f} req/s  p50 {fmt_ms(r['p50_ms'])}  "
                f"p99 {fmt_ms(r['p99_ms'])}  cpu {fmt_num(r['cpu_us_per_req'], 1)} us/req  "
                f"cs {fmt_num(r['ctx_per_req'], 2)}/req  other load {fmt_num(r['other_load_cores'], 2)} cores  "
                f"calls {r['provider_calls']}  conns {r['provider_conns']}"
                + (f"  NON-2XX {r['non2xx']}" if r["non2xx"] else ""))
    errs = stop_instances(insts, scn)
    results["scenarios"][scn] = {"kind": "throughput", "path": path, "script": script,
                                 "duration": duration, "sizes": sizes, "trials": trials,
                                 "error_log_lines": errs}
    if warm:
        results["scenarios"][scn]["warm"] = dict(warm_info)


warm_info = {}


def warm_many(inst):
    """Send every hot-many token once (the first pass of many.lua) so that
    the measured rounds see cached tokens. Bounded by BENCH_MANY_WARM_MAX
    seconds per configuration: with caches sized for 10,000 tokens the
    anchors' linear-scan shm caches make each miss cost milliseconds, and a
    complete warm-up would take them several minutes; the tokens left
    uncached show as provider calls in the measured runs."""
    if inst.name == "baseline":
        wrk(inst.port, PATH_SCOPE, "many.lua", 1, {"BENCH_MANY": str(MANY)})
        return
    t0 = time.time()
    s0 = istats()["calls"]
    for _ in range(200):
        left = MANY_WARM_MAX - (time.time() - t0)
        if left < 1:
            break
        # more connections than measured: misses wait for the provider
        wrk(inst.port, PATH_SCOPE, "many.lua", int(min(5, left)), {"BENCH_MANY": str(MANY)},
            conns=48, threads=2)
        if istats()["calls"] - s0 >= MANY:
            break
    n = istats()["calls"] - s0
    warm_info[inst.name] = {"calls": n, "seconds": round(time.time() - t0, 1)}
    log(f"  warmed {inst.name}: {n} provider calls for {MANY} tokens in {time.time() - t0:.0f} s")


def scenario_herd():
    log(f"== herd: {HERD_N} simultaneous requests with one new token, provider delay "
        f"{HERD_DELAYS} ms, {ROUNDS} trials each")
    insts = start_instances()
    out = {}
    for delay in HERD_DELAYS:
        set_delay(delay)
        out[delay] = {c: [] for c in CONFIGS}
        for rnd in range(1, ROUNDS + 1):
            for name in CONFIGS:
                inst = insts[name]
                tok = f"tokherd{RUN_ID}d{delay}r{rnd}{SHORT[name]}Xq7Lr2Vt5Ws8Nb4Hc6Jd1Fg0"
                s0 = istats()
                c0 = inst.cpu()
                p = subprocess.run(["node", os.path.join(BENCH, "herd.js"), str(inst.port), PATH_VU,
                                    tok, str(HERD_N)], capture_output=True, text=True, timeout=60)
                s1 = istats()
                try:
                    h = json.loads(p.stdout.strip().splitlines()[-1])
                except (ValueError, IndexError):
                    h = {"error": p.stdout + p.stderr}
                h["round"] = rnd
                h["provider_calls"] = s1["calls"] - s0["calls"]
                h["provider_conns"] = s1["connections"] - s0["connections"]
                h["cpu_s"] = (inst.cpu() - c0) / HZ
                out[delay][name].append(h)
                log(f"  delay {delay:3d} ms round {rnd} {name:17s} calls {h['provider_calls']:3d}  "
                    f"conns {h['provider_conns']:3d}  codes {h.get('codes')}  {h.get('ms_max')} ms")
                time.sleep(0.2 + delay / 1000)
    set_delay(0)
    errs = stop_instances(insts, "herd")
    results["scenarios"]["herd"] = {"kind": "herd", "n": HERD_N, "trials": out, "error_log_lines": errs}


def scenario_outage():
    """The provider hangs (every answer held OUTAGE_DELAY_MS, longer than
    the module's 5 s total timeout); every request carries a never-seen
    token. This module only, the breaker (default 5 10) against Off,
    interleaved; calls are counted when they reach the endpoint."""
    if "oauth2_federated" not in CONFIGS:
        return
    log(f"== outage: provider held {OUTAGE_DELAY_MS} ms, new tokens, breaker vs Off, "
        f"{ROUNDS} rounds, {OUTAGE_DURATION} s each")
    inst = Instance("oauth2_federated", None)
    inst.start()
    check_validates(inst)
    set_delay(OUTAGE_DELAY_MS)
    trials = {"breaker": [], "off": []}
    try:
        for rnd in range(1, ROUNDS + 1):
            for mode, path in (("breaker", PATH_OUTAGE), ("off", PATH_OUTAGE_OFF)):
                envx = {"BENCH_RUN": f"{RUN_ID}o{mode[0]}{rnd}"}
                raw = os.path.join(RAW, "outage", f"r{rnd}-{mode}.txt")
                r = measured(inst, lambda: wrk(inst.port, path, "cold.lua", OUTAGE_DURATION,
                                               envx, raw))
                r["round"] = rnd
                r["calls_per_s"] = r["provider_calls"] / r["seconds"] if r["seconds"] else None
                trials[mode].append(r)
                log(f"  round {rnd} {mode:8s} {r['rps']:9.1f} req/s  p50 {fmt_ms(r['p50_ms'])}  "
                    f"p99 {fmt_ms(r['p99_ms'])}  provider calls {r['provider_calls']} "
                    f"({fmt_num(r['calls_per_s'], 1)}/s)  non-2xx {r['non2xx']}  "
                    f"socket errors {r['sock_err']}")
    finally:
        set_delay(0)
    errs = stop_instances({"oauth2_federated": inst}, "outage")
    results["scenarios"]["outage"] = {"kind": "outage", "delay_ms": OUTAGE_DELAY_MS,
                                      "duration": OUTAGE_DURATION, "trials": trials,
                                      "error_log_lines": errs}


def outage_table(data):
    rows = []
    for mode, label in (("breaker", "circuit breaker `5 10` (default)"),
                        ("off", "`OAuth2FederatedCircuitBreaker Off`")):
        ts = data["trials"][mode]
        rows.append([label, fmt_num(med([t["rps"] for t in ts]), 1),
                     fmt_ms(med([t["p50_ms"] for t in ts if t["p50_ms"] is not None])),
                     fmt_ms(med([t["p99_ms"] for t in ts if t["p99_ms"] is not None])),
                     fmt_num(med([t["calls_per_s"] for t in ts if t["calls_per_s"] is not None]), 2),
                     " / ".join(str(t["provider_calls"]) for t in ts),
                     str(sum(t["non2xx"] for t in ts)), str(sum(t["sock_err"] for t in ts))])
    return md_table(["this module", "median req/s", "p50", "p99", "provider calls/s",
                     "calls per round", "non-2xx (401)", "socket errors"], rows)


def run_until(inst, path, script, target, envx_fn, label):
    """wrk in chunks until at least `target` requests were answered."""
    total, non2xx, chunks, t0 = 0, 0, 0, time.time()
    rate = None
    while total < target and chunks < 60:
        if rate:
            d = int(max(1, min(10, round((target - total) / rate))))
        else:
            d = 1
        r = wrk(inst.port, path, script, d, envx_fn(chunks))
        chunks += 1
        if r["requests"] == 0:
            break
        total += r["requests"]
        non2xx += r["non2xx"]
        rate = r["rps"] or rate
    log(f"    {label}: {total} requests in {chunks} runs, {time.time() - t0:.0f} s"
        + (f", NON-2XX {non2xx}" if non2xx else ""))
    return {"requests": total, "non2xx": non2xx, "seconds": time.time() - t0}


def scenario_memory():
    log(f"== memory: children's RSS before/after {MEM_HOT} hot requests and {MEM_DISTINCT} "
        f"distinct tokens ({', '.join(MEM_CONFIGS)})")
    out = {}
    for name in MEM_CONFIGS:
        inst = Instance(name, None)
        inst.start()
        if name != "baseline":
            check_validates(inst)
        # warm-up: the hot token, then a few hundred distinct ones, then hot again
        # (every worker thread has then made provider calls and kept its
        # connection, so later growth is not first-use allocation)
        wrk(inst.port, PATH_VU, "hot.lua", 2, {"BENCH_TOKEN": HOT_TOKEN})
        # new tokens from 48 connections, so that every worker thread of both
        # children has made provider calls (its allocator arenas at their
        # working size) before the first snapshot
        wrk(inst.port, PATH_VU, "cold.lua", MEM_WARM_COLD, {"BENCH_RUN": f"m{RUN_ID}{SHORT[name]}w"},
            conns=48, threads=2)
        wrk(inst.port, PATH_VU, "hot.lua", 1, {"BENCH_TOKEN": HOT_TOKEN})
        phases = [{"phase": "after warm-up", **inst.mem()}]
        s0 = istats()
        h = run_until(inst, PATH_VU, "hot.lua", MEM_HOT, lambda i: {"BENCH_TOKEN": HOT_TOKEN},
                      f"{name} hot")
        phases.append({"phase": f"after {h['requests']:,} hot requests", **inst.mem(), "run": h,
                       "provider_calls": istats()["calls"] - s0["calls"]})
        # distinct tokens in two halves: growth in the second half is what
        # a leak per validation would show
        done = 0
        for half in range(1, MEM_PARTS + 1):
            s0 = istats()
            d = run_until(inst, PATH_VU, "cold.lua", MEM_DISTINCT // MEM_PARTS,
                          lambda i: {"BENCH_RUN": f"m{RUN_ID}{SHORT[name]}h{half}x{i}"},
                          f"{name} distinct ({half}/{MEM_PARTS})")
            done += d["requests"]
            phases.append({"phase": f"after {done:,} distinct tokens", **inst.mem(), "run": d,
                           "provider_calls": istats()["calls"] - s0["calls"]})
        h2 = run_until(inst, PATH_VU, "hot.lua", min(MEM_HOT, 100000),
                       lambda i: {"BENCH_TOKEN": HOT_TOKEN}, f"{name} hot again")
        phases.append({"phase": f"after {h2['requests']:,} more hot requests", **inst.mem(), "run": h2})
        for ph in phases:
            log(f"  {name:17s} {ph['phase']:34s} children {ph['children']}  RSS {ph['VmRSS'] / 1024:7.1f} MiB  "
                f"anon {ph['RssAnon'] / 1024:6.1f}  shmem/child {ph['RssShmemMax'] / 1024:6.1f}")
        lines = inst.error_lines()
        if lines:
            os.makedirs(os.path.join(RAW, "memory"), exist_ok=True)
            with open(os.path.join(RAW, "memory", f"error_log.{name}"), "w") as f:
                f.writelines(lines[-200:])
        out[name] = {"phases": phases, "error_log_lines": len(lines)}
        inst.stop()
    results["scenarios"]["memory"] = {"kind": "memory", "configs": out}


# ---- fleet (issue 15): a shared redis / memcached, two servers per configuration ----

JWT_DIR = os.path.join(OUT, "jwt")
SERVICES = os.path.join(OUT, "services")
FLEET_MODULES = (f"LoadModule socache_redis_module {MODS}/mod_socache_redis.so\n"
                 f"LoadModule socache_memcache_module {MODS}/mod_socache_memcache.so\n")
ANCHOR_PASSPHRASE = "bench-anchor-crypto-passphrase-0123456789"
services = {}


def start_service(name, cmd, port):
    """redis-server / memcached on 127.0.0.1 only; timeout(1) ends it after
    BENCH_LIFETIME seconds even if this driver is killed without cleanup,
    and driver.sh stops it through services/NAME.pid."""
    if name in services and services[name].poll() is None:
        return
    os.makedirs(SERVICES, exist_ok=True)
    logf = open(os.path.join(SERVICES, f"{name}.log"), "w")
    p = subprocess.Popen(["timeout", "-s", "TERM", str(LIFETIME)] + cmd, stdout=logf,
                         stderr=subprocess.STDOUT, start_new_session=True, cwd=SERVICES)
    started.append(p)
    with open(os.path.join(SERVICES, f"{name}.pid"), "w") as f:
        f.write(f"{p.pid}\n")
    if not wait_port(port, 10, p):
        die(f"{name} did not start on 127.0.0.1:{port} (see {SERVICES}/{name}.log)")
    services[name] = p
    log(f"{name}: 127.0.0.1:{port} (pid {p.pid})")


def start_fleet_services():
    if not shutil.which("redis-server") or not shutil.which("memcached"):
        die("the fleet scenarios need redis-server and memcached (scripts/install-deps.sh)")
    start_service("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(REDIS_PORT),
                            "--save", "", "--appendonly", "no", "--dir", SERVICES,
                            "--maxmemory", "1gb", "--maxmemory-policy", "allkeys-lru",
                            "--protected-mode", "yes", "--daemonize", "no",
                            "--loglevel", "warning"], REDIS_PORT)
    start_service("memcached", ["memcached", "-l", "127.0.0.1", "-p", str(MEMCACHED_PORT),
                                "-U", "0", "-m", "512", "-c", "2048", "-u", "nobody",
                                # not written without -d; names bench/out in the
                                # command line for driver.sh's cleanup
                                "-P", os.path.join(SERVICES, "memcached-pid")],
                  MEMCACHED_PORT)


def _talk(port, payload, done):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(payload)
        buf = b""
        while not done(buf):
            d = s.recv(65536)
            if not d:
                break
            buf += d
    return buf.decode("latin1")


def _redis_bulk_done(buf):
    if not buf.startswith(b"$"):
        return b"\r\n" in buf
    head, _, rest = buf.partition(b"\r\n")
    return len(rest) >= int(head[1:]) + 2


def backend_stats(backend):
    """Commands served so far by the shared cache: redis INFO commandstats
    (calls per command) or memcached stats (cmd_get, cmd_set, ...)."""
    if not backend:
        return None
    try:
        if backend == "redis":
            txt = _talk(REDIS_PORT, b"*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n", _redis_bulk_done)
            out = {}
            for m in re.finditer(r"^cmdstat_([a-z|_-]+):calls=(\d+)", txt, re.M):
                out[m.group(1)] = int(m.group(2))
            return out
        txt = _talk(MEMCACHED_PORT, b"stats\r\n", lambda b: b.endswith(b"END\r\n"))
        st = {m.group(1): int(m.group(2)) for m in re.finditer(r"^STAT (\w+) (\d+)\r?$", txt, re.M)}
        return {"get": st.get("cmd_get", 0), "set": st.get("cmd_set", 0),
                "touch": st.get("cmd_touch", 0),
                "delete": st.get("delete_hits", 0) + st.get("delete_misses", 0),
                "incr": st.get("incr_hits", 0) + st.get("incr_misses", 0),
                "decr": st.get("decr_hits", 0) + st.get("decr_misses", 0),
                "cas": st.get("cas_hits", 0) + st.get("cas_misses", 0) + st.get("cas_badval", 0)}
    except OSError as e:
        log(f"  {backend} stats: {e}")
        return None


def backend_delta(a, b):
    """Commands between two backend_stats(), without the harness's own
    (INFO, FLUSHALL)."""
    if a is None or b is None:
        return {}
    out = {}
    for k, v in b.items():
        if k in ("info", "flushall", "command", "config"):
            continue
        d = v - a.get(k, 0)
        if d:
            out[k] = d
    return out


def flush_backends():
    if "redis" in services:
        _talk(REDIS_PORT, b"*1\r\n$8\r\nFLUSHALL\r\n", lambda b: b"\r\n" in b)
    if "memcached" in services:
        _talk(MEMCACHED_PORT, b"flush_all\r\n", lambda b: b"\r\n" in b)


def anchor_body(name, sizes=None):
    """An anchor's part of conf_for(name) (everything after the common part)."""
    return conf_for(name, sizes)[len(common_conf(name)):]


def fleet_conf(inst):
    c = common_conf(inst.name, inst.label, inst.port, inst.dir, FLEET_MODULES)
    n = inst.name
    if n == "baseline":
        return c
    if n.startswith("oauth2_federated"):
        spec = (f"memcache:127.0.0.1:{MEMCACHED_PORT}" if n == "oauth2_federated_memcache"
                else f"redis:127.0.0.1:{REDIS_PORT}")
        near = ""
        if n == "oauth2_federated_nonear":
            near = "OAuth2FederatedNearCache Off\n"
        elif FLEET_NEAR_CACHE or fleet_near_sized:
            near = f"OAuth2FederatedNearCache {FLEET_NEAR_CACHE or fleet_near_sized}\n"
        conf = oa2f_conf(spec, server_extra=near)
        if n == "oauth2_federated_b":
            conf = conf.replace(f"LoadModule oauth2_federated_module {MODULE_SO}\n",
                                f"LoadModule oauth2_federated_module {MODULE_B_SO}\n")
        return c + conf
    if n == "auth_openidc":
        return c + anchor_body(n).replace(
            "OIDCCacheType shm\n",
            f"OIDCCacheType redis\nOIDCRedisCacheServer 127.0.0.1:{REDIS_PORT}\n"
            f"OIDCCryptoPassphrase {ANCHOR_PASSPHRASE}\n")
    if n == "mod_oauth2":
        # without a passphrase each child invents its own key and cannot
        # read the entries the others wrote
        return c + anchor_body(n).replace(
            "OAuth2Cache shm\n",
            f"OAuth2CryptoPassphrase {ANCHOR_PASSPHRASE}\n"
            f"OAuth2Cache redis host=127.0.0.1&port={REDIS_PORT}\n")
    raise ValueError(n)


class Pair:
    """Servers A and B of one configuration of the fleet scenarios, sharing
    the redis (or memcached); measured together (CPU and context switches
    of both)."""

    def __init__(self, name, idx):
        self.name = name
        self.kind = XKIND[name]
        self.short = XSHORT[name]
        self.label = XLABEL["fleet"][name]
        self.backend = (None if self.kind == "baseline" else
                        "memcache" if name.endswith("_memcache") else "redis")
        pa = XPORT_BASE + 2 * idx
        self.a, self.b = (Instance(name, None, port=p, dirname=f"fleet-{name}-{x}",
                                   conf_fn=fleet_conf, kind=self.kind, short=self.short + x,
                                   label=f"{self.label} ({x.upper()})")
                          for p, x in ((pa, "a"), (pa + 1, "b")))
        self.ports = [pa, pa + 1]

    def start(self, skippable=False):
        self.a.start(skippable)
        try:
            self.b.start(skippable)
        except SkipConfig:
            self.a.stop()
            raise

    def stop(self):
        self.a.stop()
        self.b.stop()

    def cpu(self):
        return self.a.cpu() + self.b.cpu()

    def ctx(self):
        return self.a.ctx() + self.b.ctx()

    def oa2f_status(self):
        if self.kind != "oa2f":
            return None
        return {"A": self.a.oa2f_status(), "B": self.b.oa2f_status()}

    def error_lines(self):
        return self.a.error_lines() + self.b.error_lines()

    def error_tail(self, n=20):
        return self.a.error_tail(n) + self.b.error_tail(n)


def start_units(configs, make, check):
    """Start each configuration; one that this build cannot run (or that
    fails its check) is skipped with the reason, the others go on."""
    units, skipped = {}, {}
    for c in configs:
        u = make(c)
        try:
            u.start(skippable=True)
            check(u)
        except SkipConfig as e:
            u.stop()
            skipped[c] = str(e)
            log(f"  SKIPPED {c}: {e}")
            continue
        units[c] = u
    if units:
        log("validity check passed: " + ", ".join(units))
    return units, skipped


def check_pair(p):
    check_validates(p.a, skippable=True)
    check_validates(p.b, skippable=True)


def wrk_fleet(ports, path, duration, envx, raw=None, conns=None, threads=None):
    """wrk with fleet.lua: thread k on ports[k mod 2], so the load is split."""
    threads = threads or 2 * THREADS
    return wrk(ports[0], path, "fleet.lua", duration,
               dict(envx, BENCH_FLEET_PORTS=",".join(map(str, ports))), raw,
               conns=max(conns or CONNS, threads), threads=threads)


def log_trial(scn, rnd, c, r):
    extra = ""
    if r.get("backend"):
        extra = f"  {r['backend']} cmds/req {fmt_num(r.get('backend_cmds_per_req'), 3)}"
    if r.get("tokens_reused"):
        extra += f"  TOKENS REUSED {r['tokens_reused']}"
    log(f"  {scn} round {rnd} {c:26s} {r['rps']:9.0f} req/s  p50 {fmt_ms(r['p50_ms'])}  "
        f"p99 {fmt_ms(r['p99_ms'])}  cpu {fmt_num(r['cpu_us_per_req'], 1)} us/req  "
        f"other load {fmt_num(r['other_load_cores'], 2)}  calls {r['provider_calls']}{extra}"
        + (f"  NON-2XX {r['non2xx']}" if r["non2xx"] else ""))


def rotated(units, rnd):
    """units' (name, unit) pairs in round rnd's order: each round starts
    one configuration later, so that none always runs right after another
    (the second of two like rows did better in every A/B run of a fixed
    order; bench/RESULTS.md)."""
    order = list(units.items())
    k = (rnd - 1) % len(order)
    return order[k:] + order[:k]


def x_rounds(scn, units, load, duration, after=None):
    """The interleaved rounds of a new throughput scenario: per round each
    configuration gets a warm-up run (load(..., warm=True)) and a measured
    one, the order rotated by one each round. load(c, unit, rnd, seconds,
    raw, warm) -> wrk result."""
    trials = {c: [] for c in units}
    for rnd in range(1, ROUNDS + 1):
        for c, u in rotated(units, rnd):
            if WARMUP > 0:
                load(c, u, rnd, WARMUP, None, True)
            raw = os.path.join(RAW, scn, f"r{rnd}-{c}.txt")
            r = measured(u, lambda: load(c, u, rnd, duration, raw, False),
                         backend=getattr(u, "backend", None))
            r["round"] = rnd
            if after:
                after(c, r)
            trials[c].append(r)
            log_trial(scn, rnd, c, r)
    return trials


def x_record(key, group, kind, units, skipped, configs, note, **extra):
    ran = [c for c in configs if c in units]
    results["scenarios"][key] = {
        "kind": kind, "group": group, "configs": ran, "skipped": skipped, "note": note,
        "labels": {c: XLABEL[group][c] for c in configs},
        "anchors": [a for a in XANCHORS[group] if a in ran],
        "subject": XSUBJECT[group], **extra}


def fleet_note(load=True):
    return (f"two httpd servers per configuration (A, B: 2 children × 32 threads each) sharing "
            f"one private redis (127.0.0.1:{REDIS_PORT}, memcached :{MEMCACHED_PORT} for the "
            f"memcached row)" + (f"; wrk -t{2 * THREADS} -c{max(CONNS, 2 * THREADS)}, thread k "
                                 f"on server k mod 2" if load else ""))


near_probe = {}


def module_knows(line):
    """apachectl -t of a minimal configuration with this module and LINE:
    False when this build does not know the directive (feature not merged)."""
    if line in near_probe:
        return near_probe[line]
    d = os.path.join(INST, "probe")
    os.makedirs(os.path.join(d, "run"), exist_ok=True)
    conf = os.path.join(d, "httpd.conf")
    with open(conf, "w") as f:
        f.write(common_conf("probe", "directive probe", XPORT_BASE + 19, d, FLEET_MODULES)
                + f"LoadModule oauth2_federated_module {MODULE_SO}\n"
                  f"OAuth2FederatedCache redis:127.0.0.1:{REDIS_PORT}\n"
                  f"OAuth2FederatedCacheSecret probe-secret-0123456789\n{line}\n")
    t = subprocess.run([APACHE, "-t", "-f", conf], capture_output=True, text=True)
    near_probe[line] = "Invalid command" not in (t.stdout + t.stderr)
    return near_probe[line]


def fleet_labels():
    """The default row's label says when this build has no near cache."""
    if not module_knows("OAuth2FederatedNearCache Off"):
        for c in ("oauth2_federated", "oauth2_federated_memcache"):
            XLABEL["fleet"][c] = XLABEL["fleet"][c].replace(
                "near cache (default)", "no near cache (this build predates it)")


def fleet_start(scn):
    start_fleet_services()
    flush_backends()
    fleet_labels()
    log(f"== {scn}: {len(FLEET_CONFIGS)} configurations × 2 servers, {ROUNDS} rounds")
    return start_units(FLEET_CONFIGS, lambda c: Pair(c, FLEET_CONFIGS.index(c)), check_pair)


def warm_fleet_many(c, u, n, envx):
    """Every token once through both servers (48 connections), until the
    endpoint counted n calls, at most BENCH_MANY_WARM_MAX seconds."""
    if u.kind == "baseline":
        wrk_fleet(u.ports, PATH_SCOPE, 1, envx)
        return {"calls": 0, "seconds": 1}
    t0 = time.time()
    s0 = istats()["calls"]
    last = s0
    for _ in range(200):
        left = MANY_WARM_MAX - (time.time() - t0)
        if left < 1:
            break
        wrk_fleet(u.ports, PATH_SCOPE, int(min(3, left)), envx, conns=48, threads=2)
        now = istats()["calls"]
        # both servers may ask for a token before the fleet has it: done
        # once a whole pass found (nearly) every token cached
        if now - s0 >= n and now - last <= max(1, n // 200):
            break
        last = now
    got = istats()["calls"] - s0
    log(f"  warmed {c}: {got} provider calls for {n} tokens in {time.time() - t0:.0f} s")
    return {"calls": got, "seconds": round(time.time() - t0, 1)}


# The near cache of fleet-many's default row, sized for its working set
# as README "Cache" says to (0 = the default is written nowhere).
fleet_near_sized = 0


def near_bytes_for(n):
    """OAuth2FederatedNearCache for n tokens: 1.5 KiB each (README: an
    entry takes 0.7-1.5 KiB), a power of two, 0 when the default 8 MiB
    already is that much."""
    need = 1 << max(23, (n * 1536 - 1).bit_length())
    return 0 if need == 8 << 20 else need


def scenario_fleet_many():
    global fleet_near_sized
    for n in FLEET_MANY:
        key = f"fleet-many-{n}"
        os.makedirs(os.path.join(RAW, key), exist_ok=True)
        fleet_near_sized = 0 if FLEET_NEAR_CACHE else near_bytes_for(n)
        labels = dict(XLABEL["fleet"])
        if fleet_near_sized:
            for c in ("oauth2_federated", "oauth2_federated_memcache", "oauth2_federated_b"):
                XLABEL["fleet"][c] = XLABEL["fleet"][c].replace(
                    "near cache (default)",
                    f"near cache {fleet_near_sized >> 20} MiB for {n:,} tokens")
        units, skipped = fleet_start(key)
        prefix = {c: f"tokf{RUN_ID}{i}x" for i, c in enumerate(FLEET_CONFIGS)}

        def env(c):
            return {"BENCH_MODE": "many", "BENCH_MANY": str(n), "BENCH_MANY_PREFIX": prefix[c]}

        warm = {c: warm_fleet_many(c, u, n, env(c)) for c, u in units.items()}
        trials = x_rounds(key, units, lambda c, u, rnd, d, raw, w: wrk_fleet(
            u.ports, PATH_SCOPE, d, env(c), raw), DURATION)
        errs = stop_instances(units, key)
        x_record(key, "fleet", "xthroughput", units, skipped, FLEET_CONFIGS,
                 f"{n:,} distinct cached tokens cycled, scope location, {DURATION} s per run; "
                 + fleet_note(), trials=trials, warm=warm, many=n, error_log_lines=errs)
        XLABEL["fleet"].update(labels)
        fleet_near_sized = 0


def scenario_fleet_cold():
    key = "fleet-cold"
    units, skipped = fleet_start(key)
    trials = x_rounds(key, units, lambda c, u, rnd, d, raw, w: wrk_fleet(
        u.ports, PATH_SCOPE, d,
        {"BENCH_MODE": "cold", "BENCH_RUN": f"{RUN_ID}f{u.short}r{rnd}" + ("w" if w else "")},
        raw), COLD_DURATION)
    errs = stop_instances(units, key)
    x_record(key, "fleet", "xthroughput", units, skipped, FLEET_CONFIGS,
             f"every request a never-seen token, scope location, {COLD_DURATION} s per run; "
             + fleet_note(), trials=trials, error_log_lines=errs)


def seq_get(port, path, tokens):
    """One keep-alive connection, the tokens one after the other: latency
    (ms) of each answer and the status codes."""
    lat, codes = [], {}
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    for t in tokens:
        t0 = time.perf_counter()
        c.request("GET", path, headers={"Authorization": f"Bearer {t}"})
        r = c.getresponse()
        r.read()
        lat.append((time.perf_counter() - t0) * 1000)
        codes[str(r.status)] = codes.get(str(r.status), 0) + 1
        if r.getheader("Connection", "").lower() == "close":
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    c.close()
    return lat, codes


def pctl(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def scenario_fleet_cross():
    """A token validated on A, then asked on B: B should find A's verdict
    in the shared cache (no provider call)."""
    key = "fleet-cross"
    units, skipped = fleet_start(key)
    trials = {c: [] for c in units}
    for rnd in range(1, ROUNDS + 1):
        for c, u in rotated(units, rnd):
            toks = [f"tokx{RUN_ID}{u.short}r{rnd}n{i:05d}Qm7Zk3Lr2Vt5Ws8Nb4Hc6" for i in
                    range(FLEET_CROSS_N)]
            s0 = istats()
            lat_a, codes_a = seq_get(u.a.port, PATH_SCOPE, toks)
            s1 = istats()
            b0 = backend_stats(u.backend)
            lat_b, codes_b = seq_get(u.b.port, PATH_SCOPE, toks)
            b1 = backend_stats(u.backend)
            s2 = istats()
            d = backend_delta(b0, b1)
            t = {"round": rnd, "n": len(toks), "calls_a": s1["calls"] - s0["calls"],
                 "calls_b": s2["calls"] - s1["calls"], "codes_a": codes_a, "codes_b": codes_b,
                 "a_p50_ms": pctl(lat_a, 50), "a_p99_ms": pctl(lat_a, 99),
                 "b_p50_ms": pctl(lat_b, 50), "b_p99_ms": pctl(lat_b, 99),
                 "backend": u.backend, "backend_cmds_b": d,
                 "backend_cmds_per_b_req": (sum(d.values()) / len(toks)) if u.backend else None}
            trials[c].append(t)
            log(f"  {key} round {rnd} {c:26s} A: {t['calls_a']} calls, p50 "
                f"{fmt_ms(t['a_p50_ms'])}; B: {t['calls_b']} calls, p50 {fmt_ms(t['b_p50_ms'])} "
                f"p99 {fmt_ms(t['b_p99_ms'])}, codes {codes_b}"
                + (f", {u.backend} cmds/B-req {t['backend_cmds_per_b_req']:.2f}" if u.backend else ""))
    errs = stop_instances(units, key)
    x_record(key, "fleet", "xcross", units, skipped, FLEET_CONFIGS,
             f"{FLEET_CROSS_N} new tokens per round, each asked first on A, then all of them on B "
             f"(one keep-alive connection each, sequential, scope location); "
             + fleet_note(False), trials=trials, error_log_lines=errs)


def scenario_fleet_herd():
    key = "fleet-herd"
    units, skipped = fleet_start(key)
    out = {}
    for delay in HERD_DELAYS:
        set_delay(delay)
        out[delay] = {c: [] for c in units}
        for rnd in range(1, ROUNDS + 1):
            for c, u in units.items():
                tok = f"tokfherd{RUN_ID}d{delay}r{rnd}{u.short}Xq7Lr2Vt5Ws8Nb4Hc6Jd1Fg0"
                b0 = backend_stats(u.backend)
                s0 = istats()
                c0 = u.cpu()
                p = subprocess.run(["node", os.path.join(BENCH, "herd.js"),
                                    ",".join(map(str, u.ports)), PATH_VU, tok, str(HERD_N)],
                                   capture_output=True, text=True, timeout=60)
                s1 = istats()
                d = backend_delta(b0, backend_stats(u.backend))
                try:
                    h = json.loads(p.stdout.strip().splitlines()[-1])
                except (ValueError, IndexError):
                    h = {"error": p.stdout + p.stderr}
                h.update({"round": rnd, "provider_calls": s1["calls"] - s0["calls"],
                          "provider_conns": s1["connections"] - s0["connections"],
                          "cpu_s": (u.cpu() - c0) / HZ, "backend": u.backend,
                          "backend_cmds": d, "backend_cmds_total": sum(d.values())})
                out[delay][c].append(h)
                log(f"  {key} delay {delay:3d} ms round {rnd} {c:26s} calls "
                    f"{h['provider_calls']:3d}  codes {h.get('codes')}  {h.get('ms_max')} ms"
                    + (f"  {u.backend} cmds {h['backend_cmds_total']}" if u.backend else ""))
                time.sleep(0.2 + delay / 1000)
    set_delay(0)
    errs = stop_instances(units, key)
    x_record(key, "fleet", "xherd", units, skipped, FLEET_CONFIGS,
             f"{HERD_N} simultaneous requests with one new token, connections alternating "
             f"between A and B; provider calls counted by the endpoint", n=HERD_N, trials=out,
             error_log_lines=errs)


# ---- JWT access tokens and the phantom token (issue 16) ------------------------------

JWT_KID = "bench-issuer-1"
JWKS_URL = f"http://127.0.0.1:{JWKS_PORT}/jwks.json"
JWKS_URL_TLS = f"https://127.0.0.1:{PORT_BASE}/jwks.json"
jwt_tokens = {}


def openssl(*a):
    subprocess.run(["openssl"] + list(a), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_jwt_keys():
    """The issuer's signing key (BENCH_JWT_ALG: ES256 = P-256, RS256 = RSA
    2048) and its JWKS, and the P-256 key this module signs phantom tokens
    with; all made by openssl, kept across runs in bench/out/jwt/."""
    os.makedirs(JWT_DIR, exist_ok=True)
    key = os.path.join(JWT_DIR, f"issuer-{JWT_ALG.lower()}.key")
    if not os.path.exists(key):
        if JWT_ALG == "RS256":
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key)
        elif JWT_ALG == "ES256":
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", key)
        else:
            die(f"BENCH_JWT_ALG={JWT_ALG}: ES256 or RS256")
    subprocess.run(["node", os.path.join(BENCH, "jwt.js"), "jwks", key, JWT_KID,
                    os.path.join(JWT_DIR, "jwks.json")], check=True)
    pk = os.path.join(JWT_DIR, "phantom-p256.key")
    if not os.path.exists(pk):
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", pk)
    return key


def mint(name, n, **spec):
    """n JWTs in bench/out/jwt/NAME.txt (fresh each run: exp moves on)."""
    key = os.path.join(JWT_DIR, f"issuer-{JWT_ALG.lower()}.key")
    out = os.path.join(JWT_DIR, f"{name}.txt")
    aud = ["https://bench.example/other", RESOURCE or "https://bench.example/api"]
    full = {"n": n, "jti": f"{RUN_ID}-{name}", "iss": ISSUER, "aud": aud,
            "ttl": max(14400, LIFETIME + 1800)}
    full.update(spec)
    p = subprocess.run(["node", os.path.join(BENCH, "jwt.js"), "mint", key, JWT_KID, out,
                        json.dumps(full)], capture_output=True, text=True)
    if p.returncode != 0:
        die(f"minting {name} failed: {p.stderr}")
    info = json.loads(p.stdout)
    log(f"  minted {n:,} {JWT_ALG} JWTs ({name}) in {info['ms']} ms, {info['bytes'] / 1e6:.1f} MB")
    return out


def first_line(path):
    with open(path) as f:
        return f.readline().strip()


def jwt_material():
    if jwt_tokens:
        return
    make_jwt_keys()
    for name, spec in (("check-good", {}), ("check-noread", {"scope": "write"}),
                       ("check-badsig", {"corrupt": True}), ("check-expired", {"ttl": -600}),
                       ("check-otheraud", {"aud": ["https://bench.example/other"]}),
                       ("hot", {})):
        jwt_tokens[name] = first_line(mint(name, 1, **spec))


def jwt_conf(inst):
    c = common_conf(inst.name, inst.label, inst.port, inst.dir)
    n = inst.name
    sizes = inst.sizes
    if n == "baseline":
        return c
    if n == "oauth2_federated_jwt":
        spec = "shmcb" if not sizes else f"shmcb:({sizes['shmcb_bytes']})"
        return c + oa2f_conf(spec, issuer=True,
                             loc_extra=(f"    OAuth2FederatedLocalJWT     On\n"
                                        f"    OAuth2FederatedJWKSURL      {JWKS_URL}\n"))
    if n == "auth_openidc_jwt":
        shm = "" if not sizes else f"OIDCCacheShmMax {sizes['entries']}\n"
        return c + f"""
LoadModule auth_openidc_module {MODS}/mod_auth_openidc.so
OIDCOAuthVerifyJwksUri {JWKS_URL_TLS}
OIDCCABundlePath "{os.path.join(TLS, 'ca.pem')}"
OIDCCacheType shm
{shm}<Location /vu>
    AuthType oauth20
    AuthName "bench"
    Require valid-user
</Location>
<Location /scope>
    AuthType oauth20
    AuthName "bench"
    Require claim scope~\\\\bread\\\\b
</Location>
"""
    if n == "mod_oauth2_jwt":
        opts = "" if not sizes else f" max_entries={sizes['entries']}"
        verify = f"OAuth2TokenVerify jwks_uri {JWKS_URL}"
        return c + f"""
LoadModule oauth2_module {MODS}/mod_oauth2.so
OAuth2Cache shm{opts}
<Location /vu>
    AuthType oauth2
    AuthName "bench"
    {verify}
    Require valid-user
</Location>
<Location /scope>
    AuthType oauth2
    AuthName "bench"
    {verify}
    Require oauth2_claim "scope:read write"
</Location>
"""
    raise ValueError(n)


def check_jwt(inst):
    """Local JWT validation really happens: a good JWT 200 (twice), a
    broken signature, an expired one 401, one without scope read refused on
    /scope/, and no provider call at all."""
    s0 = istats()
    T = jwt_tokens
    if inst.kind == "baseline":
        checks = [(PATH_SCOPE, T["hot"], (200,))]
    else:
        checks = [(PATH_SCOPE, T["check-badsig"], (401,)), (PATH_VU, T["check-expired"], (401,)),
                  (PATH_SCOPE, T["check-good"], (200,)), (PATH_SCOPE, T["check-good"], (200,)),
                  (PATH_VU, T["check-good"], (200,)), (PATH_SCOPE, T["check-noread"], (401, 403)),
                  (PATH_VU, T["check-noread"], (200,)), (PATH_VU, None, (400, 401))]
        if inst.kind == "oa2f" and RESOURCE:
            checks.append((PATH_VU, T["check-otheraud"], (401,)))
    bad = []
    for path, tok, want in checks:
        st = http_get(inst.port, path, tok)
        if st not in want:
            what = next((k for k, v in T.items() if v == tok), "no token")
            bad.append(f"GET {path} JWT {what}: {st}, expected {want}")
    s1 = istats()
    if s1["calls"] != s0["calls"]:
        bad.append(f"{s1['calls'] - s0['calls']} provider calls (local validation expected none)")
    if bad:
        log(f"  {inst.name}: " + "; ".join(bad) + "\n" + inst.error_tail(5))
        raise SkipConfig("validity check failed: " + "; ".join(bad[:4]))


def jwt_start(key, sizes=None):
    jwt_material()
    log(f"== {key}: {len(JWT_CONFIGS)} configurations × {ROUNDS} rounds")
    return start_units(JWT_CONFIGS, lambda c: Instance(
        c, sizes, port=XPORT_BASE + JWT_ALL.index(c), dirname=f"jwt-{c}", conf_fn=jwt_conf,
        label=XLABEL["jwt"][c]), check_jwt)


def jwt_note():
    return (f"{JWT_ALG} JWTs (kid {JWT_KID}, typ at+jwt) minted in advance by jwt.js, JWKS "
            f"served at {JWKS_URL} (mod_auth_openidc takes https only: the same file at "
            f"{JWKS_URL_TLS}); this module also checks iss"
            + (" and aud" if RESOURCE else "") + ", the anchors neither")


def wrk_tokens(port, path, d, file, raw=None, conns=None, threads=None, skip=0, count=0):
    threads = threads or THREADS
    return wrk(port, path, "tokens.lua", d,
               {"BENCH_TOKENS_FILE": file, "BENCH_TOKENS_THREADS": str(threads),
                "BENCH_TOKENS_SKIP": str(skip), "BENCH_TOKENS_COUNT": str(count)},
               raw, conns=conns, threads=threads)


def scenario_jwt_hot():
    key = "jwt-hot"
    units, skipped = jwt_start(key)
    tok = jwt_tokens["hot"]
    trials = x_rounds(key, units, lambda c, u, rnd, d, raw, w: wrk(
        u.port, PATH_SCOPE, "hot.lua", d, {"BENCH_TOKEN": tok}, raw), DURATION)
    errs = stop_instances(units, key)
    x_record(key, "jwt", "xthroughput", units, skipped, JWT_CONFIGS,
             f"one JWT on every request, scope location, {DURATION} s per run; " + jwt_note(),
             trials=trials, error_log_lines=errs)


def many_sizes_for(n):
    cap = int(n * 1.25) + 100
    return {"entries": cap, "shmcb_bytes": max(8 << 20, 1 << (cap * 2048 * 2 - 1).bit_length())}


def scenario_jwt_many():
    key = "jwt-many"
    jwt_material()
    file = mint("many", JWT_MANY)
    units, skipped = jwt_start(key, many_sizes_for(JWT_MANY))
    warm = {}
    for c, u in units.items():
        r = wrk_tokens(u.port, PATH_SCOPE, JWT_WARM, file, conns=48, threads=2)
        warm[c] = {"requests": r["requests"], "seconds": JWT_WARM}
        log(f"  warmed {c}: {r['requests']} requests for {JWT_MANY} JWTs")
    trials = x_rounds(key, units, lambda c, u, rnd, d, raw, w: wrk_tokens(
        u.port, PATH_SCOPE, d, file, raw), DURATION)
    errs = stop_instances(units, key)
    x_record(key, "jwt", "xthroughput", units, skipped, JWT_CONFIGS,
             f"{JWT_MANY:,} distinct JWTs cycled, scope location, {DURATION} s per run, after "
             f"{JWT_WARM} s of warm-up (48 connections); " + jwt_note(),
             trials=trials, warm=warm, many=JWT_MANY, error_log_lines=errs)


def scenario_jwt_cold():
    """Every request a JWT never seen before: a signature check each (the
    tokens of round r are new to every configuration: each has its own
    cache); warm-ups use another set."""
    key = "jwt-cold"
    jwt_material()
    # one node process per file, two at a time (RS256 mints slowly)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        jobs = {r: pool.submit(mint, f"cold-r{r}", JWT_COLD_TOKENS)
                for r in range(1, ROUNDS + 1)}
        warm = pool.submit(mint, "cold-warm", max(1000, JWT_COLD_TOKENS // 4))
        files = {r: j.result() for r, j in jobs.items()}
        wfile = warm.result()
    units, skipped = jwt_start(key)

    def load(c, u, rnd, d, raw, w):
        return wrk_tokens(u.port, PATH_SCOPE, d, wfile if w else files[rnd], raw)

    def after(c, r):
        # the baseline validates nothing: a token sent twice costs it nothing more
        if XKIND[c] != "baseline":
            r["tokens_reused"] = max(0, r["requests"] - JWT_COLD_TOKENS)
    trials = x_rounds(key, units, load, COLD_DURATION, after)
    errs = stop_instances(units, key)
    # tens of MB each; minted afresh every run anyway
    for f in list(files.values()) + [wfile]:
        os.unlink(f)
    x_record(key, "jwt", "xthroughput", units, skipped, JWT_CONFIGS,
             f"every request a JWT never seen before ({JWT_COLD_TOKENS:,} per round), scope "
             f"location, {COLD_DURATION} s per run; " + jwt_note(), trials=trials,
             error_log_lines=errs)


PATH_PHANTOM_CHECK = "/phantom-check/hello.txt"


def phantom_conf(inst):
    sizes = inst.sizes
    spec = "shmcb" if not sizes else f"shmcb:({sizes['shmcb_bytes']})"
    pk = os.path.join(JWT_DIR, "phantom-p256.key")
    c = common_conf(inst.name, inst.label, inst.port, inst.dir,
                    f"LoadModule headers_module {MODS}/mod_headers.so\n")
    fwd = "    OAuth2FederatedForwardJWT   Authorization\n"
    body = oa2f_conf(spec, server_extra=f'OAuth2FederatedSigningKey "{pk}" bench-phantom-1\n',
                     loc_extra=fwd)
    # what the backend would receive, shown to the check only (not measured)
    return c + body + f"""<Location /phantom-check>
    AuthType oauth2-federated
    AuthName "bench"
    OAuth2FederatedProvider     introspection
    OAuth2FederatedEndpoint     {ENDPOINT}
    OAuth2FederatedClientID     {CLIENT_ID}
    OAuth2FederatedClientSecret {CLIENT_SECRET}
    OAuth2FederatedCAFile       "{os.path.join(TLS, 'ca.pem')}"
{fwd}    Header always set X-Bench-Forwarded "expr=%{{req:Authorization}}"
    Require valid-user
</Location>
<Location /phantom-jwks>
    SetHandler oauth2-federated-jwks
    Require ip 127.0.0.1
</Location>
"""


def b64u_json(part):
    import base64
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def check_phantom(inst):
    check_validates(inst, skippable=True)
    tok = f"tokphantom{RUN_ID}{int(time.time() * 1000) % 100000}Z3kPq7Lr2Vt5"
    c = http.client.HTTPConnection("127.0.0.1", inst.port, timeout=15)
    c.request("GET", PATH_PHANTOM_CHECK, headers={"Authorization": f"Bearer {tok}"})
    r = c.getresponse()
    r.read()
    fwd = r.getheader("X-Bench-Forwarded") or ""
    c.close()
    bad = []
    if r.status != 200:
        bad.append(f"{PATH_PHANTOM_CHECK}: {r.status}")
    parts = fwd[7:].split(".") if fwd.startswith("Bearer ") else []
    if len(parts) != 3 or tok in fwd:
        bad.append(f"the backend did not receive a JWT in Authorization ({fwd[:40]!r})")
    else:
        try:
            h, p = b64u_json(parts[0]), b64u_json(parts[1])
            if h.get("alg") != "ES256" or p.get("sub") != "bench-user" or "exp" not in p:
                bad.append(f"unexpected forwarded JWT: header {h}, claims {sorted(p)}")
        except ValueError as e:
            bad.append(f"forwarded JWT does not decode: {e}")
    if bad:
        raise SkipConfig("phantom-token check failed: " + "; ".join(bad))


def phantom_start(key, sizes=None):
    make_jwt_keys()
    log(f"== {key}: {len(PHANTOM_CONFIGS)} configurations × {ROUNDS} rounds")

    def make(c):
        if c == "oauth2_federated_phantom":
            return Instance(c, sizes, port=XPORT_BASE, dirname=f"phantom-{c}", conf_fn=phantom_conf,
                            label=XLABEL["phantom"][c])
        return Instance(c, sizes)

    def check(u):
        if u.name == "oauth2_federated_phantom":
            check_phantom(u)
        else:
            check_validates(u, skippable=True)
        if OUTAGE_MODE and u.kind == "oa2f":
            add_rules(u)
    return start_units(PHANTOM_CONFIGS, make, check)


def scenario_phantom():
    key = "phantom"
    units, skipped = phantom_start(key)
    trials = x_rounds(key, units, lambda c, u, rnd, d, raw, w: wrk(
        u.port, PATH_VU, "hot.lua", d, {"BENCH_TOKEN": HOT_TOKEN}, raw), DURATION)
    errs = stop_instances(units, key)
    x_record(key, "phantom", "xthroughput", units, skipped, PHANTOM_CONFIGS,
             f"one cached opaque token, `Require valid-user`, {DURATION} s per run; the phantom "
             f"row also signs a JWT (ES256, `OAuth2FederatedSigningKey`, P-256 by openssl) for "
             f"the backend in `Authorization`", trials=trials, error_log_lines=errs)


def scenario_phantom_many():
    key = "phantom-many"
    sizes = many_sizes_for(PHANTOM_MANY)
    units, skipped = phantom_start(key, sizes)
    env = {"BENCH_MANY": str(PHANTOM_MANY), "BENCH_MANY_PREFIX": f"tokpm{RUN_ID}"}
    warm = {}
    for c, u in units.items():
        t0, s0 = time.time(), istats()["calls"]
        while time.time() - t0 < MANY_WARM_MAX:
            wrk(u.port, PATH_SCOPE, "many.lua", 2, env, conns=48, threads=2)
            if u.kind == "baseline" or istats()["calls"] - s0 >= PHANTOM_MANY:
                break
        warm[c] = {"calls": istats()["calls"] - s0, "seconds": round(time.time() - t0, 1)}
        log(f"  warmed {c}: {warm[c]['calls']} provider calls for {PHANTOM_MANY} tokens")
    trials = x_rounds(key, units, lambda c, u, rnd, d, raw, w: wrk(
        u.port, PATH_SCOPE, "many.lua", d, env, raw), DURATION)
    errs = stop_instances(units, key)
    x_record(key, "phantom", "xthroughput", units, skipped, PHANTOM_CONFIGS,
             f"{PHANTOM_MANY:,} distinct cached opaque tokens cycled (many.lua), scope location, "
             f"{DURATION} s per run; the phantom row signs a JWT per token and child",
             trials=trials, warm=warm, many=PHANTOM_MANY, error_log_lines=errs)


X_SCENARIOS = {"fleet-many": scenario_fleet_many, "fleet-cold": scenario_fleet_cold,
               "fleet-cross": scenario_fleet_cross, "fleet-herd": scenario_fleet_herd,
               "jwt-hot": scenario_jwt_hot, "jwt-many": scenario_jwt_many,
               "jwt-cold": scenario_jwt_cold, "phantom": scenario_phantom,
               "phantom-many": scenario_phantom_many}


# ---- reporting -------------------------------------------------------------------

def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v * 1000:.0f} us" if v < 1 else f"{v:.2f} ms"


def fmt_num(v, nd=0):
    if v is None:
        return "-"
    return f"{v:,.{nd}f}"


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def round_ratios(trials, c, ref):
    """rps(c) / rps(ref) within each round: slow drift of the shared machine
    cancels out (the configurations of one round run back to back)."""
    out = []
    for a, b in zip(trials[c], trials[ref]):
        if a.get("rps") and b.get("rps"):
            out.append(a["rps"] / b["rps"])
    return out


def rr(trials, c, ref):
    if c == ref:
        return "—"
    xs = round_ratios(trials, c, ref)
    return f"{statistics.median(xs):.2f}" if xs else "-"


def throughput_table(scn, data):
    trials = data["trials"]
    # the new scenarios name their own configurations, labels and anchors
    configs = data.get("configs", CONFIGS)
    anchors = data.get("anchors", ANCHORS)
    labels = data.get("labels", LABEL)
    backend = any(t.get("backend") for c in configs for t in trials[c])
    reuse = any("tokens_reused" in t for c in configs for t in trials[c])
    meds = {c: med([t["rps"] for t in trials[c]]) for c in configs}
    cols = ["configuration", "median req/s", "× baseline"] + [f"× {labels[a]}" for a in anchors] + [
        "p50", "p99", "httpd CPU µs/req", "ctx switches/req", "provider calls", "provider conns"]
    if backend:
        cols.append("fleet-cache cmds/req")
    if reuse:
        cols.append("tokens sent twice")
    jwks = data.get("group") == "jwt"
    if jwks:
        cols.append("JWKS fetches")
    cols += ["non-2xx", "req/s per round"]
    rows = []
    for c in configs:
        ts = trials[c]
        row = [labels[c], fmt_num(meds[c])]
        row.append(rr(trials, c, "baseline") if "baseline" in configs else "-")
        for a in anchors:
            row.append(rr(trials, c, a))
        row += [fmt_ms(med([t["p50_ms"] for t in ts])), fmt_ms(med([t["p99_ms"] for t in ts])),
                fmt_num(med([t["cpu_us_per_req"] for t in ts]), 1),
                fmt_num(med([t.get("ctx_per_req") for t in ts]), 2),
                str(sum(t["provider_calls"] for t in ts)), str(sum(t["provider_conns"] for t in ts))]
        if backend:
            row.append(fmt_num(med([t.get("backend_cmds_per_req") for t in ts]), 3)
                       if any(t.get("backend") for t in ts) else "-")
        if reuse:
            row.append(str(sum(t.get("tokens_reused", 0) for t in ts))
                       if any("tokens_reused" in t for t in ts) else "-")
        if jwks:
            row.append(str(sum(t.get("jwks_fetches", 0) for t in ts)))
        row += [str(sum(t["non2xx"] + t.get("sock_err", 0) for t in ts)),
                " / ".join(fmt_num(t["rps"]) for t in ts)]
        rows.append(row)
    loads = [t.get("other_load_cores") for c in configs for t in trials[c]
             if t.get("other_load_cores") is not None]
    note = ""
    if loads:
        note = (f"\n\nOther load on the machine during the measured runs (CPU not used by httpd, "
                f"wrk or the endpoint): median {statistics.median(loads):.2f} cores, "
                f"max {max(loads):.2f} cores.")
    return md_table(cols, rows) + note


def ratio(a, b):
    if not a or not b:
        return "-"
    return f"{a / b:.2f}"


def md_table(cols, rows):
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return "\n".join(out)


def herd_table(data):
    configs = data.get("configs", CONFIGS)
    labels = data.get("labels", LABEL)
    backend = data.get("kind") == "xherd"
    cols = ["configuration", "provider delay", "provider calls per trial", "new connections per trial",
            "answers", "slowest answer (median)"] + (["fleet-cache cmds per trial"] if backend else [])
    rows = []
    for delay, per in data["trials"].items():
        for c in configs:
            ts = per[c]
            codes = {}
            for t in ts:
                for k, v in (t.get("codes") or {}).items():
                    codes[k] = codes.get(k, 0) + v
            rows.append([labels[c], f"{delay} ms", " / ".join(str(t["provider_calls"]) for t in ts),
                         " / ".join(str(t["provider_conns"]) for t in ts),
                         ", ".join(f"{v}×{k}" for k, v in sorted(codes.items())),
                         fmt_ms(med([t.get("ms_max") for t in ts]))]
                        + ([" / ".join(str(t.get("backend_cmds_total", "-")) if t.get("backend")
                                       else "-" for t in ts)] if backend else []))
    return md_table(cols, rows)


def cross_table(data):
    cols = ["configuration", "provider calls on A", "provider calls on B", "B answers",
            "A p50 (first ask)", "B p50", "B p99", "fleet-cache cmds per B request"]
    rows = []
    for c in data["configs"]:
        ts = data["trials"][c]
        n = sum(t["n"] for t in ts)
        codes = {}
        for t in ts:
            for k, v in t["codes_b"].items():
                codes[k] = codes.get(k, 0) + v
        rows.append([data["labels"][c], f"{sum(t['calls_a'] for t in ts)} of {n}",
                     f"{sum(t['calls_b'] for t in ts)} of {n}",
                     ", ".join(f"{v}×{k}" for k, v in sorted(codes.items())),
                     fmt_ms(med([t["a_p50_ms"] for t in ts])), fmt_ms(med([t["b_p50_ms"] for t in ts])),
                     fmt_ms(med([t["b_p99_ms"] for t in ts])),
                     fmt_num(med([t.get("backend_cmds_per_b_req") for t in ts]), 2)
                     if any(t.get("backend") for t in ts) else "-"])
    return md_table(cols, rows)


def x_sections(S):
    """Tables of the fleet / JWT / phantom-token scenarios, with what was
    skipped and why."""
    lines = []
    for key, d in S.items():
        if not str(d.get("kind", "")).startswith("x"):
            continue
        lines.append(f"### {key} — {d['note']}")
        lines.append("")
        for c, why in d.get("skipped", {}).items():
            lines.append(f"**Skipped: {d['labels'].get(c, c)}** — {why}.")
            lines.append("")
        if not d["configs"]:
            lines.append("(no configuration could run)")
            lines.append("")
            continue
        if d.get("warm"):
            lines.append("Warm-up: " + "; ".join(
                f"{d['labels'][c]} {w.get('calls', w.get('requests', 0)):,} "
                f"{'provider calls' if 'calls' in w else 'requests'} in {w['seconds']:.0f} s"
                for c, w in d["warm"].items()) + ".")
            lines.append("")
        if d["kind"] == "xthroughput":
            lines.append(throughput_table(key, d))
        elif d["kind"] == "xherd":
            lines.append(herd_table(d))
        elif d["kind"] == "xcross":
            lines.append(cross_table(d))
        lines.append("")
    return lines


def xtargets():
    """What issues 15 and 16 ask of the new scenarios, evaluated on this run."""
    out = []
    S = results["scenarios"]
    for key, d in S.items():
        if not str(d.get("kind", "")).startswith("x"):
            continue
        group = d.get("group")
        subj = [c for c in d["configs"] if c.startswith("oauth2_federated")
                and (group == "fleet" or c == d.get("subject"))]
        for c, why in d.get("skipped", {}).items():
            if c.startswith("oauth2_federated") and (group == "fleet" or c == d.get("subject")):
                out.append((f"{key}, {d['labels'].get(c, c)}", None, f"not measured: {why}"))
        if d["kind"] == "xherd":
            for delay, per in d["trials"].items():
                for c in subj:
                    calls = [t["provider_calls"] for t in per[c]]
                    ok = all(x == 1 for x in calls) and all(
                        (t.get("codes") or {}).get("200") == d["n"] for t in per[c])
                    out.append((f"{key} at {delay} ms, {d['labels'][c]}: exactly 1 provider call "
                                f"per trial across A and B", ok,
                                "calls per trial: " + " / ".join(map(str, calls))))
        elif d["kind"] == "xcross":
            for c in subj:
                calls = sum(t["calls_b"] for t in d["trials"][c])
                out.append((f"{key}, {d['labels'][c]}: B asks no provider for A's tokens",
                            calls == 0, f"{calls} provider calls on B"))
        elif d["kind"] == "xthroughput":
            tr = d["trials"]
            for c in subj:
                floor, whose = baseline_target(key)
                if "baseline" in d["configs"] and floor:
                    r = med(round_ratios(tr, c, "baseline"))
                    if r is not None:
                        out.append((f"{key}, {d['labels'][c]}: × baseline", r >= floor,
                                    f"{r:.2f} × baseline ({floor:.2f} is {whose})"))
                for a in d["anchors"]:
                    r = med(round_ratios(tr, c, a))
                    if r is not None:
                        out.append((f"{key}, {d['labels'][c]}: above {d['labels'][a]}", r > 1,
                                    f"{r:.2f} ×"))
                if key.startswith("fleet-many") and any(t.get("backend") for t in tr[c]):
                    worst = max(t.get("backend_cmds_total", 0) for t in tr[c])
                    lim = 2 * d["many"]
                    out.append((f"{key}, {d['labels'][c]}: the fleet cache asked at most once per "
                                f"token and server in a measured run", worst <= lim,
                                f"at most {worst:,} commands per run for {d['many']:,} tokens × 2 "
                                f"servers"))
                if key.startswith("jwt"):
                    calls = sum(t["provider_calls"] for t in tr[c])
                    out.append((f"{key}, {d['labels'][c]}: no provider call", calls == 0,
                                f"{calls} provider calls"))
            if key.startswith("phantom") and "oauth2_federated_phantom" in d["configs"] \
                    and "oauth2_federated" in d["configs"]:
                r = med(round_ratios(tr, "oauth2_federated_phantom", "oauth2_federated"))
                if r is not None:
                    out.append((f"{key}: the cached path keeps its speed with ForwardJWT", r >= 0.90,
                                f"{r:.2f} × the same module without ForwardJWT"))
    return out


def baseline_target(key):
    """The least ratio to the baseline a scenario must reach, and whose
    target it is; (None, None): judged against the anchors only."""
    if key == "jwt-cold":
        alg = results.get("settings", {}).get("jwt_alg", JWT_ALG)
        return 0.50, f"the cold JWT target of issue 16, {alg}"
    if key.startswith("phantom"):
        return 0.85, "the phantom-token target of issue 16"
    if "cold" in key:
        return None, None
    return 0.90, "the cached-path target of issue 5"


def memory_table(data):
    cols = ["configuration", "phase", "children", "RSS, sum of children (MiB)",
            "private RssAnon, sum (MiB)", "shared RssShmem, per child (MiB)", "provider calls"]
    rows = []
    for c, d in data["configs"].items():
        for ph in d["phases"]:
            rows.append([LABEL[c], ph["phase"], str(ph["children"]), f"{ph['VmRSS'] / 1024:.1f}",
                         f"{ph['RssAnon'] / 1024:.1f}", f"{ph['RssShmemMax'] / 1024:.1f}",
                         str(ph.get("provider_calls", "-"))])
    return md_table(cols, rows)


def targets():
    """The issue's targets, evaluated on this run."""
    out = []
    S = results["scenarios"]

    def rps_by_round(scn, c):
        return [t["rps"] for t in S[scn]["trials"][c]]

    for scn in ("hot", "hot-scope", "hot-many"):
        if scn not in S or SUBJECT not in CONFIGS:
            continue
        tr = S[scn]["trials"]
        m = med(rps_by_round(scn, SUBJECT))
        r = med(round_ratios(tr, SUBJECT, "baseline")) if "baseline" in CONFIGS else None
        wins = []
        for i in range(len(tr[SUBJECT])):
            wins.append(all(tr[SUBJECT][i]["rps"] > tr[a][i]["rps"] for a in ANCHORS))
        ok1 = r is not None and r >= 0.90
        ok2 = all(wins)
        best = max((med(rps_by_round(scn, a)) for a in ANCHORS), default=None)
        vs_best = min((med(round_ratios(tr, SUBJECT, a)) for a in ANCHORS), default=None)
        out.append((f"{scn}: ≥ 0.90 × baseline", ok1,
                    f"{r:.2f} × baseline" + ("" if ok1 else f" (missed by {0.90 - r:.2f})") if r else "n/a"))
        out.append((f"{scn}: above both anchors in every round", ok2,
                    f"{sum(wins)}/{len(wins)} rounds; {vs_best:.2f} × the faster anchor"
                    if vs_best else "n/a"))
        bad = sum(t["non2xx"] for c in CONFIGS for t in tr[c])
        if bad:
            out.append((f"{scn}: every answer 2xx", False, f"{bad} non-2xx answers"))
    if "cold" in S and SUBJECT in CONFIGS and ANCHORS:
        m = med(rps_by_round("cold", SUBJECT))
        best_a = max(ANCHORS, key=lambda a: med(rps_by_round("cold", a)) or 0)
        best = med(rps_by_round("cold", best_a))
        calls = sum(t["provider_calls"] for t in S["cold"]["trials"][SUBJECT])
        conns = sum(t["provider_conns"] for t in S["cold"]["trials"][SUBJECT])
        r = m / best if best else None
        out.append(("cold: ≥ 3 × the faster anchor", r is not None and r >= 3,
                    f"{r:.2f} × {LABEL[best_a]} ({m:,.0f} vs {best:,.0f} req/s)" if r else "n/a"))
        out.append(("cold: provider connections reused (conns ≪ calls)",
                    calls > 0 and conns <= 0.05 * calls,
                    f"{conns} new connections for {calls:,} calls during the measured runs"))
    if "herd" in S and SUBJECT in CONFIGS:
        for delay, per in S["herd"]["trials"].items():
            calls = [t["provider_calls"] for t in per[SUBJECT]]
            ok = all(x == 1 for x in calls) and all(
                (t.get("codes") or {}).get("200") == S["herd"]["n"] for t in per[SUBJECT])
            out.append((f"herd at {delay} ms: exactly 1 provider call per trial", ok,
                        "calls per trial: " + " / ".join(map(str, calls))
                        + ("" if ok else f"; answers {[t.get('codes') for t in per[SUBJECT]]}")))
    if "memory" in S and SUBJECT in S["memory"]["configs"]:
        ph = S["memory"]["configs"][SUBJECT]["phases"]
        # phases: warm-up, hot, distinct 1..k, hot again
        mib = lambda a, b, k="RssAnon": (ph[b][k] - ph[a][k]) / 1024  # noqa: E731
        last = len(ph) - 1
        anon = mib(0, last)
        parts = ", ".join(f"{mib(i, i + 1):+.1f}" for i in range(1, last - 1))
        # "no growth": private memory must not keep growing once every thread
        # has done its first provider calls: the last part of the distinct
        # tokens and the final hot requests may add at most 0.25 MiB
        tail = mib(last - 2, last)
        ok = tail <= 0.25 and mib(0, 1) <= 0.25
        out.append(("memory: no growth of children's RSS beyond the shared cache after warm-up", ok,
                    f"private RssAnon (sum of {ph[0]['children']} children) {anon:+.1f} MiB from "
                    f"warm-up to the end: {mib(0, 1):+.1f} over the hot requests, {parts} over the "
                    f"successive parts of the distinct tokens, {mib(last - 1, last):+.1f} over the "
                    f"last hot requests; shared memory per child "
                    f"{mib(0, last, 'RssShmemMax'):+.1f} MiB (the cache filling up to its "
                    f"configured size)"))
    return out


def summary_md(cmdline, t_total):
    S = results["scenarios"]
    lines = []
    lines.append(f"Run {results['date']} on {results['machine']['cpu']} "
                 f"({results['machine']['cores']} cores), `{cmdline}`, {t_total / 60:.1f} min.")
    lines.append("")
    lines.append(f"Versions: {', '.join(f'{k} {v}' for k, v in results['versions'].items())}.")
    lines.append("")
    lines.append(f"Settings: {ROUNDS} rounds, configurations interleaved "
                 f"({' → '.join(SHORT[c] for c in CONFIGS)} per round), wrk {THREADS} thread / "
                 f"{CONNS} connections, {WARMUP} s warm-up before each measured run; "
                 f"the × columns are medians of the per-round ratios (each round's "
                 f"configurations run back to back)"
                 + ("; the fleet, JWT and phantom-token scenarios name their own configurations "
                    "in their tables and rotate their order by one each round."
                    if any(str(d.get("kind", "")).startswith("x") for d in S.values())
                    else "."))
    lines.append("")
    desc = {
        "hot": f"one cached token, `Require valid-user`, {DURATION} s per run",
        "hot-scope": f"one cached token, scope-requiring location, {DURATION} s per run",
        "hot-many": f"{MANY:,} distinct cached tokens cycled by many.lua, scope location, "
                    f"{DURATION} s per run; caches sized for the working set",
        "cold": f"every request a never-seen token, scope location, {COLD_DURATION} s per run",
    }
    for scn in ("hot", "hot-scope", "hot-many", "cold"):
        if scn in S:
            lines.append(f"### {scn} — {desc[scn]}")
            lines.append("")
            if S[scn].get("sizes"):
                lines.append(f"Cache sizes: {S[scn]['sizes']['note']}.")
                lines.append("")
            if S[scn].get("warm"):
                lines.append("Warm-up (every token sent once, at most "
                             f"{results['settings'].get('many_warm_max', '?')} s per configuration): "
                             + "; ".join(f"{LABEL[c]} {w['calls']:,} of {MANY:,} tokens cached in "
                                         f"{w['seconds']:.0f} s" for c, w in S[scn]["warm"].items())
                             + ". Tokens left uncached show as provider calls in the measured runs.")
                lines.append("")
            lines.append(throughput_table(scn, S[scn]))
            lines.append("")
    if "herd" in S:
        lines.append(f"### herd — {S['herd']['n']} simultaneous requests, one new token per trial")
        lines.append("")
        lines.append(herd_table(S["herd"]))
        lines.append("")
    if "outage" in S:
        lines.append(f"### outage — the provider hangs ({S['outage']['delay_ms']} ms per answer, past "
                     f"the 5 s timeout), every request a new token, {S['outage']['duration']} s per run")
        lines.append("")
        lines.append(outage_table(S["outage"]))
        lines.append("")
    if "memory" in S:
        lines.append("### memory — children of the two httpd processes, /proc/<pid>/status")
        lines.append("")
        lines.append(memory_table(S["memory"]))
        lines.append("")
    lines += x_sections(S)
    xt = xtargets()
    if xt:
        lines.append("### Targets of issues 15 and 16 (fleet, JWT, phantom token)")
        lines.append("")
        lines.append(md_table(["target", "met", "measured"],
                              [[a, "n/a" if ok is None else "yes" if ok else "**no**", b]
                               for a, ok, b in xt]))
        lines.append("")
    t = targets()
    if t:
        lines.append("### Targets of issue 5")
        lines.append("")
        lines.append(md_table(["target", "met", "measured"],
                              [[a, "yes" if ok else "**no**", b] for a, ok, b in t]))
        lines.append("")
    return "\n".join(lines)


def versions():
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, shell=True).stdout.strip()
        except Exception:  # noqa: BLE001
            return "?"
    return {
        "httpd": out(f"{APACHE} -v | sed -n 's/^Server version: //p'"),
        "mod_auth_openidc": out("dpkg-query -W -f='${Version}' libapache2-mod-auth-openidc"),
        "mod_oauth2": out("dpkg-query -W -f='${Version}' libapache2-mod-oauth2")
                      + " (liboauth2 " + out("dpkg-query -W -f='${Version}' liboauth2-0") + ")",
        "mod_oauth2_federated": out(f"cd {ROOT} && git describe --always --dirty 2>/dev/null")
                                + " (sha256 " + out(f"sha256sum {MODULE_SO} | cut -c1-12") + ", CFLAGS "
                                + out(f"sed -n 's/^CFLAGS = //p' {ROOT}/Makefile") + ")"
                                + (f" from BENCH_MODULE={os.environ['BENCH_MODULE']}"
                                   if os.environ.get("BENCH_MODULE") else ""),
        "wrk": out("wrk -v 2>&1 | head -1 | awk '{print $2}'"),
        "node": out("node --version"),
        "openssl": out("openssl version | awk '{print $2}'"),
        "libcurl": out("curl --version | head -1 | awk '{print $4}' | sed 's/libcurl\\///'"),
    }


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_mib": mem, "kernel": os.uname().release}


def report_only():
    """Re-render summary.md from bench/out/results.json (bench.py --report)."""
    global ROUNDS, DURATION, COLD_DURATION, WARMUP, CONNS, THREADS, MANY, CONFIGS, ANCHORS
    with open(os.path.join(OUT, "results.json")) as f:
        results.update(json.load(f))
    st = results["settings"]
    ROUNDS, DURATION, COLD_DURATION = st["rounds"], st["duration"], st["cold_duration"]
    WARMUP, CONNS, THREADS, MANY = st["warmup"], st["connections"], st["threads"], st["many"]
    CONFIGS = st["configs"]
    ANCHORS = [c for c in ("auth_openidc", "mod_oauth2") if c in CONFIGS]
    md = summary_md(st["cmdline"], results.get("seconds", 0))
    with open(os.path.join(OUT, "summary.md"), "w") as f:
        f.write(md + "\n")
    print(md)


def copy_module():
    """The module under test goes to bench/out (BENCH_MODULE may be there)."""
    if not (os.path.exists(MODULE_SO) and os.path.samefile(BUILT_SO, MODULE_SO)):
        shutil.copy2(BUILT_SO, MODULE_SO)
    if "oauth2_federated_b" in FLEET_CONFIGS:
        if not BUILT_B_SO:
            sys.exit("bench: the configuration oauth2_federated_b needs BENCH_MODULE_B")
        shutil.copy2(BUILT_B_SO, MODULE_B_SO)


def main():
    global log_file
    if "--report" in sys.argv[1:]:
        report_only()
        return
    t_start = time.time()
    os.makedirs(OUT, exist_ok=True)
    if os.path.isdir(RAW):
        shutil.rmtree(RAW)
    os.makedirs(RAW, exist_ok=True)
    log_file = open(os.path.join(OUT, "run.log"), "w")
    if not os.path.exists(BUILT_SO):
        die(f"{BUILT_SO} is missing: build the module first (scripts/build.sh)")
    copy_module()
    max_min = env_int("BENCH_MAX_MINUTES", 45)
    signal.signal(signal.SIGALRM, lambda s, f: die(f"still running after {max_min} min "
                                                    "(BENCH_MAX_MINUTES); stopping"))
    signal.alarm(max_min * 60)
    for c in CONFIGS:
        if c not in ALL_CONFIGS:
            die(f"unknown configuration {c} (BENCH_CONFIGS)")
    knobs = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items())
                     if k.startswith("BENCH_") and k != "BENCH_CMDLINE")
    cmdline = (knobs + " " if knobs else "") + os.environ.get(
        "BENCH_CMDLINE", "python3 bench/bench.py" + (" --quick" if QUICK else ""))
    results["date"] = datetime.datetime.now().strftime("%Y-%m-%d %H:%M %Z").strip()
    results["machine"] = machine()
    results["versions"] = versions()
    results["settings"] = {"rounds": ROUNDS, "duration": DURATION, "cold_duration": COLD_DURATION,
                           "warmup": WARMUP, "connections": CONNS, "threads": THREADS,
                           "many": MANY, "herd_n": HERD_N, "herd_delays": HERD_DELAYS,
                           "mem_hot": MEM_HOT, "mem_distinct": MEM_DISTINCT,
                           "many_warm_max": MANY_WARM_MAX,
                           "configs": CONFIGS, "memory_configs": MEM_CONFIGS,
                           "scenarios": SCENARIOS, "quick": QUICK, "cmdline": cmdline,
                           "fleet_many": FLEET_MANY, "fleet_cross_n": FLEET_CROSS_N,
                           "fleet_configs": FLEET_CONFIGS, "jwt_configs": JWT_CONFIGS,
                           "phantom_configs": PHANTOM_CONFIGS, "jwt_alg": JWT_ALG,
                           "jwt_many": JWT_MANY, "jwt_cold_tokens": JWT_COLD_TOKENS,
                           "phantom_many": PHANTOM_MANY}
    log(f"machine: {results['machine']}")
    log(f"versions: {results['versions']}")
    log(f"settings: {results['settings']}")
    make_tls()
    make_htdocs()
    os.makedirs(INST, exist_ok=True)
    start_introspect()
    log(f"introspection endpoint: {ENDPOINT}")

    many_cap = int(MANY * 1.25) + 100
    many_sizes = {
        "entries": many_cap,
        # shmcb's index has size/2048 slots with this module's hints
        "shmcb_bytes": max(8 << 20, 1 << (many_cap * 2048 * 2 - 1).bit_length()),
    }
    many_sizes["note"] = (f"mod_oauth2_federated `shmcb:({many_sizes['shmcb_bytes']})`, "
                          f"mod_auth_openidc `OIDCCacheShmMax {many_cap}`, "
                          f"mod_oauth2 `max_entries={many_cap}` (defaults elsewhere)")
    hot_env = lambda name, rnd: {"BENCH_TOKEN": HOT_TOKEN}  # noqa: E731
    for scn in SCENARIOS:
        scn = scn.strip()
        if scn in X_SCENARIOS:
            os.makedirs(os.path.join(RAW, scn), exist_ok=True)
            X_SCENARIOS[scn]()
            with open(os.path.join(OUT, "results.json"), "w") as f:
                json.dump(results, f, indent=1, default=str)
            continue
        os.makedirs(os.path.join(RAW, scn), exist_ok=True)
        if scn == "hot":
            scenario_throughput("hot", PATH_VU, "hot.lua", DURATION, envx_fn=hot_env)
        elif scn == "hot-scope":
            scenario_throughput("hot-scope", PATH_SCOPE, "hot.lua", DURATION, envx_fn=hot_env)
        elif scn == "hot-many":
            scenario_throughput("hot-many", PATH_SCOPE, "many.lua", DURATION, sizes=many_sizes,
                                envx_fn=lambda n, r: {"BENCH_MANY": str(MANY)}, warm=warm_many)
        elif scn == "cold":
            scenario_throughput("cold", PATH_SCOPE, "cold.lua", COLD_DURATION,
                                envx_fn=lambda n, r: {"BENCH_RUN": f"{RUN_ID}{SHORT[n]}r{r}"})
        elif scn == "herd":
            scenario_herd()
        elif scn == "outage":
            scenario_outage()
        elif scn == "memory":
            scenario_memory()
        elif scn:
            die(f"unknown scenario {scn} (BENCH_SCENARIOS)")
        with open(os.path.join(OUT, "results.json"), "w") as f:
            json.dump(results, f, indent=1, default=str)
    results["introspect_final"] = istats()
    t_total = time.time() - t_start
    results["seconds"] = t_total
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    md = summary_md(cmdline, t_total)
    with open(os.path.join(OUT, "summary.md"), "w") as f:
        f.write(md + "\n")
    print()
    print(md)
    log(f"done in {t_total / 60:.1f} min; raw outputs in {RAW}, summary in {OUT}/summary.md")


if __name__ == "__main__":
    main()
