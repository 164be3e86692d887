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

ANCHORS = [c for c in ("auth_openidc", "mod_oauth2") if c in CONFIGS]
SUBJECT = "oauth2_federated"
LABEL = {
    "baseline": "baseline (no auth)",
    "oauth2_federated": "mod_oauth2_federated",
    "auth_openidc": "mod_auth_openidc",
    "mod_oauth2": "mod_oauth2",
}
SHORT = {"baseline": "base", "oauth2_federated": "oa2f", "auth_openidc": "openidc", "mod_oauth2": "oauth2"}
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
    for d in ("", "vu", "scope", "outage", "outage-off"):
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
               BENCH_LIFETIME=str(LIFETIME), BENCH_PARENT_PID=str(os.getpid()))
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

def common_conf(name):
    d = os.path.join(INST, name)
    return f"""# {LABEL[name]} -- generated by bench/bench.py
ServerRoot "{d}"
ServerName 127.0.0.1
Listen 127.0.0.1:{PORTS[name]}
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
TypesConfig /etc/mime.types

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


def conf_for(name, sizes):
    """sizes: per-scenario cache capacity (None = each module's default)."""
    c = common_conf(name)
    ca = os.path.join(TLS, "ca.pem")
    if name == "baseline":
        return c
    if name == "oauth2_federated":
        spec = "shmcb" if not sizes else f"shmcb:({sizes['shmcb_bytes']})"
        blocks = []
        identity = (f"    OAuth2FederatedResource     {RESOURCE}\n"
                    f"    OAuth2FederatedIssuer       {ISSUER}\n"
                    if RESOURCE else "")
        if OUTAGE_MODE:
            identity += ("    OAuth2FederatedCacheMaxTTL  300\n"
                         "    OAuth2FederatedStaleIfError 60\n")
        locs = [("/vu", "Require valid-user"), ("/scope", "Require oauth2-scope read")]
        if OUTAGE_MODE:
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
        return c + f"""
LoadModule oauth2_federated_module {MODULE_SO}
OAuth2FederatedCache {spec}
{secret}""" + "\n".join(blocks) + """
<Location /oauth2-status>
    SetHandler oauth2-federated-status
    Require ip 127.0.0.1
</Location>
<Location /oauth2-revoke>
    SetHandler oauth2-federated-revoke
    Require ip 127.0.0.1
</Location>
"""
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


class Instance:
    def __init__(self, name, sizes):
        self.name = name
        self.port = PORTS[name]
        self.dir = os.path.join(INST, name)
        self.proc = None
        self.sizes = sizes

    def start(self):
        os.makedirs(os.path.join(self.dir, "run"), exist_ok=True)
        conf = os.path.join(self.dir, "httpd.conf")
        with open(conf, "w") as f:
            f.write(conf_for(self.name, self.sizes))
        el = os.path.join(self.dir, "error_log")
        if os.path.exists(el):
            os.rename(el, el + ".prev")
        subprocess.run(["chmod", "-R", "a+rX", OUT], check=False)
        t = subprocess.run([APACHE, "-t", "-f", conf], capture_output=True, text=True)
        if t.returncode != 0:
            die(f"{self.name}: configuration test failed:\n{t.stdout}{t.stderr}")
        errf = open(os.path.join(self.dir, "stderr.log"), "a")
        self.proc = subprocess.Popen([APACHE, "-f", conf, "-DFOREGROUND"], stdout=errf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        started.append(self.proc)
        if not wait_port(self.port, 20, self.proc):
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
        if self.name != SUBJECT:
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


def check_validates(inst):
    """Abort unless the instance really validates (or, for the baseline,
    serves without validation)."""
    port = inst.port
    s0 = istats()
    tag = f"tokcheck{RUN_ID}{SHORT[inst.name]}{int(time.time() * 1000) % 100000}"
    checks = []
    if inst.name == "baseline":
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
        if inst.name == "oauth2_federated" and RESOURCE:
            # "tokotheraud..." tokens are for another resource only
            checks.append((PATH_VU, "tokotheraud" + tag, (401,)))
    bad = []
    for path, tok, want in checks:
        st = http_get(port, path, tok)
        if st not in want:
            bad.append(f"GET {path} token={tok!r}: {st}, expected {want}")
    s1 = istats()
    if inst.name != "baseline":
        if s1["unauthorized"] != s0["unauthorized"]:
            bad.append("the introspection endpoint refused its client credentials")
        if s1["calls"] == s0["calls"]:
            bad.append("no provider call was made")
    if bad:
        die(f"{inst.name} does not validate as expected:\n  " + "\n  ".join(bad)
            + f"\n{inst.dir}/error_log:\n" + inst.error_tail())
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


def measured(inst, fn):
    """Run fn() and add httpd CPU per request and provider calls to its result."""
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
    if st0 and st1 and "error" not in st0 and "error" not in st1:
        r["module_status_delta"] = diff_status(st0, st1)
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
    meds = {c: med([t["rps"] for t in trials[c]]) for c in CONFIGS}
    cols = ["configuration", "median req/s", "× baseline"] + [f"× {LABEL[a]}" for a in ANCHORS] + [
        "p50", "p99", "httpd CPU µs/req", "ctx switches/req", "provider calls", "provider conns",
        "non-2xx", "req/s per round"]
    rows = []
    for c in CONFIGS:
        ts = trials[c]
        row = [LABEL[c], fmt_num(meds[c])]
        row.append(rr(trials, c, "baseline") if "baseline" in CONFIGS else "-")
        for a in ANCHORS:
            row.append(rr(trials, c, a))
        row += [fmt_ms(med([t["p50_ms"] for t in ts])), fmt_ms(med([t["p99_ms"] for t in ts])),
                fmt_num(med([t["cpu_us_per_req"] for t in ts]), 1),
                fmt_num(med([t.get("ctx_per_req") for t in ts]), 2),
                str(sum(t["provider_calls"] for t in ts)), str(sum(t["provider_conns"] for t in ts)),
                str(sum(t["non2xx"] + t.get("sock_err", 0) for t in ts)),
                " / ".join(fmt_num(t["rps"]) for t in ts)]
        rows.append(row)
    loads = [t.get("other_load_cores") for c in CONFIGS for t in trials[c]
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
    cols = ["configuration", "provider delay", "provider calls per trial", "new connections per trial",
            "answers", "slowest answer (median)"]
    rows = []
    for delay, per in data["trials"].items():
        for c in CONFIGS:
            ts = per[c]
            codes = {}
            for t in ts:
                for k, v in (t.get("codes") or {}).items():
                    codes[k] = codes.get(k, 0) + v
            rows.append([LABEL[c], f"{delay} ms", " / ".join(str(t["provider_calls"]) for t in ts),
                         " / ".join(str(t["provider_conns"]) for t in ts),
                         ", ".join(f"{v}×{k}" for k, v in sorted(codes.items())),
                         fmt_ms(med([t.get("ms_max") for t in ts]))])
    return md_table(cols, rows)


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
                 f"configurations run back to back).")
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
                                + out(f"sed -n 's/^CFLAGS = //p' {ROOT}/Makefile") + ")",
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
                           "scenarios": SCENARIOS, "quick": QUICK, "cmdline": cmdline}
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
