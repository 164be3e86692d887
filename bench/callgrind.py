#!/usr/bin/env python3
"""Instruction counts per cached ("hot") request, baseline vs module, under
valgrind --tool=callgrind (called by bench/callgrind.sh).

For each of the two configurations it runs httpd -X (one process) under
callgrind twice, once for N1 and once for N2 requests with the same cached
token on one keep-alive connection, and divides the difference of the
instruction counts by N2 - N1: start-up, the first provider call and the
shutdown cancel out. The same difference per function gives the hot path's
cost by function.
Outputs: bench/out/callgrind/ (callgrind.out.*, summary.md).
"""
import http.client
import os
import re
import subprocess
import sys
import time

# a port range of its own, so that it can run next to bench/run.sh
os.environ.setdefault("BENCH_PORT_BASE", "19200")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
import bench as B  # noqa: E402

N1 = int(os.environ.get("CG_N1", "200"))
N2 = int(os.environ.get("CG_N2", "1200"))
PATH = os.environ.get("CG_PATH", B.PATH_SCOPE)
CONFIGS = ["baseline", "oauth2_federated"]
CG = os.path.join(B.OUT, "callgrind")
TOP = int(os.environ.get("CG_TOP", "25"))


def conf_text(name):
    B.INST = os.path.join(CG, "inst")
    c = B.conf_for(name, None)
    # -X runs one process; a few worker threads are enough
    for a, b in (("ThreadsPerChild 32", "ThreadsPerChild 4"), ("MaxRequestWorkers 64", "MaxRequestWorkers 8"),
                 ("MinSpareThreads 32", "MinSpareThreads 4"), ("MaxSpareThreads 64", "MaxSpareThreads 8")):
        c = c.replace(a, b)
    return c


def run_one(name, n):
    d = os.path.join(CG, "inst", name)
    os.makedirs(os.path.join(d, "run"), exist_ok=True)
    conf = os.path.join(d, "httpd.conf")
    with open(conf, "w") as f:
        f.write(conf_text(name))
    out = os.path.join(CG, f"callgrind.out.{name}.{n}")
    if os.path.exists(out):
        os.remove(out)
    # httpd -X drops to www-data before callgrind writes its file: the file
    # must exist already and belong to www-data
    open(out, "w").close()
    subprocess.run(["chown", "-R", "www-data:www-data", CG], check=True)
    subprocess.run(["chmod", "-R", "a+rX", B.OUT], check=False)
    logf = open(os.path.join(d, f"valgrind.{n}.log"), "w")
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--vgdb=no", f"--callgrind-out-file={out}",
                          B.APACHE, "-X", "-f", conf], stdout=logf, stderr=subprocess.STDOUT,
                         start_new_session=True)
    B.started.append(p)
    port = B.PORTS[name]
    if not B.wait_port(port, 180, p):
        B.die(f"{name}: httpd under valgrind did not start; see {d}/valgrind.{n}.log")
    tok = B.HOT_TOKEN
    # first request: the provider call and the cache store (in both runs)
    st = B.http_get(port, PATH, tok)
    if st != 200:
        B.die(f"{name}: priming request answered {st}")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    hdr = {"Authorization": f"Bearer {tok}"}
    for _ in range(n):
        c.request("GET", PATH, headers=hdr)
        r = c.getresponse()
        r.read()
        if r.status != 200:
            B.die(f"{name}: request answered {r.status}")
    c.close()
    time.sleep(0.5)
    B.stop_proc(p, timeout=120)
    B.started.remove(p)
    if not os.path.exists(out):
        B.die(f"{name}: callgrind wrote no {out}")
    return out


where = {}  # function -> one "file:function [object]" line naming it
LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)\s*$")


def fn_key(key):
    """Group callgrind_annotate's "file:function [object]" lines by function:
    the same function appears once per file context (inlined code)."""
    m = re.match(r"<counts for unidentified lines in (.*)>$", key)
    if m:
        return f"(unattributed lines of {os.path.basename(m.group(1))})"
    m = re.match(r"(.*?):([^:\[]+?)(?:\s+\[(.*)\])?$", key)
    if not m:
        return key
    fn, obj = m.group(2), m.group(3)
    if fn.startswith("0x") and obj:
        return f"{os.path.basename(obj)}@{fn}"
    return fn


def annotate(path, inclusive):
    """{function: Ir} and the program total; self costs are summed over a
    function's file contexts, inclusive costs take the largest."""
    args = ["callgrind_annotate", "--threshold=100", f"--inclusive={'yes' if inclusive else 'no'}",
            path]
    txt = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    funcs, total = {}, 0
    for line in txt.splitlines():  # noqa: E501
        m = LINE.match(line)
        if not m:
            continue
        ir = int(m.group(1).replace(",", ""))
        key = m.group(2)
        if key == "PROGRAM TOTALS":
            total = ir
            continue
        k = fn_key(key)
        funcs[k] = max(funcs.get(k, 0), ir) if inclusive else funcs.get(k, 0) + ir
        where[k] = where.get(k) or (key if "[" in key else None)
    return funcs, total


def short(k):
    """function (file.c, object)"""
    full = where.get(k)
    if not full:
        return k
    m = re.match(r"(.*?):([^:\[]+?)(?:\s+\[(.*)\])?$", full)
    if not m:
        return k
    f, obj = m.group(1), m.group(3)
    extra = ", ".join(x for x in (os.path.basename(f) if f not in ("???", "") else "",
                                  os.path.basename(obj) if obj else "") if x)
    return f"{k} ({extra})" if extra else k


def is_module(k):
    full = where.get(k) or ""
    return ("mod_oauth2_federated" in full or k.startswith("oa2f_")
            or k.startswith("(unattributed lines of mod_oa2f") or k.startswith("(unattributed lines of oa2f"))


def per_request(a, b):
    keys = set(a) | set(b)
    return {k: (b.get(k, 0) - a.get(k, 0)) / (N2 - N1) for k in keys}


def main():
    os.makedirs(CG, exist_ok=True)
    if not os.path.exists(B.BUILT_SO):
        B.die(f"{B.BUILT_SO} is missing: build the module first (scripts/build.sh)")
    B.copy_module()
    B.make_tls()
    B.make_htdocs()
    B.start_introspect()
    res = {}
    for name in CONFIGS:
        files = {}
        for n in (N1, N2):
            t0 = time.time()
            files[n] = run_one(name, n)
            B.log(f"callgrind {name}: {n} requests, {time.time() - t0:.0f} s")
        s1, t1 = annotate(files[N1], False)
        s2, t2 = annotate(files[N2], False)
        i1, _ = annotate(files[N1], True)
        i2, _ = annotate(files[N2], True)
        res[name] = {"total": (t2 - t1) / (N2 - N1), "self": per_request(s1, s2),
                     "incl": per_request(i1, i2)}
    base, mod = res["baseline"]["total"], res["oauth2_federated"]["total"]
    lines = [f"Instructions per cached request (callgrind Ir, (run of {N2} − run of {N1}) / "
             f"{N2 - N1}; GET {PATH}, one keep-alive connection, httpd -X, "
             f"{B.results.get('date', time.strftime('%Y-%m-%d'))}):", "",
             "| configuration | Ir per request | vs baseline |", "|---|---|---|",
             f"| baseline (no auth) | {base:,.0f} | 1.00 |",
             f"| mod_oauth2_federated | {mod:,.0f} | {mod / base:.2f} (+{mod - base:,.0f}) |", ""]
    selfm = res["oauth2_federated"]["self"]
    selfb = res["baseline"]["self"]
    diff = {k: selfm.get(k, 0) - selfb.get(k, 0) for k in set(selfm) | set(selfb)}
    lines += [f"Where the {mod - base:,.0f} extra instructions go: self cost per request, module run "
              "minus baseline run, by function (top {}):".format(TOP), "",
              "| Ir/request | function |", "|---|---|"]
    for k, v in sorted(diff.items(), key=lambda kv: -kv[1])[:TOP]:
        if v < 1:
            break
        lines.append(f"| {v:,.0f} | {short(k)} |")
    lines.append("")
    incl = res["oauth2_federated"]["incl"]
    mods = [(k, v) for k, v in incl.items() if is_module(k) and v >= 1]
    lines += ["The module's own functions, inclusive cost per request (callees included):", "",
              "| Ir/request (inclusive) | self | function |", "|---|---|---|"]
    for k, v in sorted(mods, key=lambda kv: -kv[1])[:TOP]:
        lines.append(f"| {v:,.0f} | {selfm.get(k, 0):,.0f} | {short(k)} |")
    lines.append("")
    md = "\n".join(lines)
    with open(os.path.join(CG, "summary.md"), "w") as f:
        f.write(md + "\n")
    print()
    print(md)


if __name__ == "__main__":
    main()
