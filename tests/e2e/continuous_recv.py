#!/usr/bin/env python3
"""continuous_recv.py - test receivers for the continuous collector's uploads.

Implements the two ingest protocols as docs/FORMAT.md and the backends
document them, and checks every request field by field:

  pyroscope: POST /ingest?name=APP{labels}&from=S&until=S&spyName=cprof,
             multipart/form-data with parts "profile" (gzipped pprof,
             filename profile.pprof) and "sample_type_config" (JSON), no
             format=pprof; optional Basic auth, Bearer token, X-Scope-OrgID.
  datadog:   POST /profiling/v1/input, DD-EVP-ORIGIN headers, multipart with
             part "event" (filename event.json, application/json, version 4)
             and one part per attachment, named as event.json lists them.

Usage: continuous_recv.py MODE OUTDIR [BEHAVIOUR] [EXPECT...]
  MODE       pyroscope | datadog
  BEHAVIOUR  ok (default) | fail500 | slow (sleeps 3 s per request, then 200) |
             flaky (500 to every other request: those are logged REFUSED, not OK)
  EXPECT     key=value checks: service=, version=, tags=k:v,..., user=, password=,
             token=, tenant=
Writes OUTDIR/port once listening; per request OUTDIR/log gets one line,
"OK <kind> <file>" or "BAD <reason>"; profile bodies go to OUTDIR/NNN-<kind>.pb.gz.
"""
import base64
import gzip
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.parse

MODE, OUT = sys.argv[1], sys.argv[2]
BEHAVIOUR = sys.argv[3] if len(sys.argv) > 3 else "ok"
EXPECT = dict(a.split("=", 1) for a in sys.argv[4:])
LOCK = threading.Lock()
COUNT = [0]

PYRO_TYPES = {
    "cpu": {"samples": ("samples", "sum", "cpu", True)},
    "heap": {"inuse_objects": ("objects", "average", "inuse_objects", False),
             "inuse_space": ("bytes", "average", "inuse_space", False)},
    "allocs": {"alloc_objects": ("objects", "sum", "alloc_objects", False),
               "alloc_space": ("bytes", "sum", "alloc_space", False)},
    "block": {"contentions": ("lock_samples", "sum", "block_count", False),
              "delay": ("lock_nanoseconds", "sum", "block_duration", False)},
    "mutex": {"contentions": ("lock_samples", "sum", "mutex_count", False),
              "delay": ("lock_nanoseconds", "sum", "mutex_duration", False)},
}


def log(line):
    with LOCK:
        with open(os.path.join(OUT, "log"), "a") as f:
            f.write(line + "\n")


def save(kind, body):
    with LOCK:
        COUNT[0] += 1
        path = os.path.join(OUT, "%03d-%s.pb.gz" % (COUNT[0], kind))
    with open(path, "wb") as f:
        f.write(body)
    return path


def parse_multipart(ctype, body):
    """Parts as a list of (headers dict lower-cased, payload bytes)."""
    m = re.fullmatch(r"multipart/form-data; boundary=([A-Za-z0-9'()+_,./:=?-]{1,70})", ctype or "")
    if not m:
        raise ValueError("Content-Type %r is not multipart/form-data with a boundary" % ctype)
    b = ("--" + m.group(1)).encode()
    if not body.startswith(b + b"\r\n"):
        raise ValueError("body does not open with the boundary")
    if not body.endswith(b + b"--\r\n"):
        raise ValueError("body does not end with the closing boundary")
    parts = []
    for chunk in body[len(b) + 2:-(len(b) + 4)].split(b"\r\n" + b + b"\r\n"):
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        head, sep, payload = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("a part without a blank line after its headers")
        hdrs = {}
        for line in head.decode().split("\r\n"):
            k, _, v = line.partition(": ")
            hdrs[k.lower()] = v
        parts.append((hdrs, payload))
    return parts


def disposition(h):
    m = re.fullmatch(r'form-data; name="([^"]+)"; filename="([^"]+)"', h.get("content-disposition", ""))
    if not m:
        raise ValueError("bad Content-Disposition %r" % h.get("content-disposition"))
    return m.group(1), m.group(2)


def check_pprof(payload):
    if payload[:2] != b"\x1f\x8b":
        raise ValueError("profile is not gzipped")
    raw = gzip.decompress(payload)
    if not raw:
        raise ValueError("empty profile")


def expect_labels(labels):
    want = {"host": os.uname().nodename}
    if "service_version" in EXPECT:
        want["version"] = EXPECT["service_version"]
    for kv in filter(None, EXPECT.get("tags", "").split(",")):
        k, v = kv.split(":", 1)
        want[re.sub(r"[^A-Za-z0-9_]", "_", k)] = v
    for k, v in want.items():
        if labels.get(k) != v:
            raise ValueError("label %s=%r, want %r" % (k, labels.get(k), v))
    if not re.fullmatch(r"[0-9]+", labels.get("pid", "")):
        raise ValueError("label pid=%r is not a pid" % labels.get("pid"))


def pyroscope(h):
    u = urllib.parse.urlsplit(h.path)
    if u.path != "/ingest":
        raise ValueError("path %s, want /ingest" % u.path)
    q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
    for k, v in q.items():
        if len(v) != 1:
            raise ValueError("query parameter %s given %d times" % (k, len(v)))
    if set(q) != {"name", "from", "until", "spyName"}:
        raise ValueError("query parameters %s, want name, from, until, spyName" % sorted(q))
    if "format" in q:
        raise ValueError("format= must not be sent with a multipart body")
    m = re.fullmatch(r"([^{}]+)\{([^{}]*)\}", q["name"][0])
    if not m:
        raise ValueError("name=%r is not APP{labels}" % q["name"][0])
    if m.group(1) != EXPECT.get("service", m.group(1)):
        raise ValueError("application %r, want %r" % (m.group(1), EXPECT.get("service")))
    labels = dict(kv.split("=", 1) for kv in m.group(2).split(","))
    expect_labels(labels)
    f, t = int(q["from"][0]), int(q["until"][0])
    now = time.time()
    if not (now - 600 < f <= t <= now + 5):
        raise ValueError("from=%d until=%d not a recent window" % (f, t))
    if q["spyName"][0] != "cprof":
        raise ValueError("spyName=%r" % q["spyName"][0])
    auth = h.headers.get("Authorization")
    if "user" in EXPECT:
        want = "Basic " + base64.b64encode(("%s:%s" % (EXPECT["user"], EXPECT["password"])).encode()).decode()
        if auth != want:
            raise ValueError("Authorization %r, want %r" % (auth, want))
    elif "token" in EXPECT:
        if auth != "Bearer " + EXPECT["token"]:
            raise ValueError("Authorization %r, want Bearer token" % auth)
    elif auth is not None:
        raise ValueError("unexpected Authorization header")
    if h.headers.get("X-Scope-OrgID") != EXPECT.get("tenant"):
        raise ValueError("X-Scope-OrgID %r, want %r" % (h.headers.get("X-Scope-OrgID"), EXPECT.get("tenant")))
    parts = parse_multipart(h.headers.get("Content-Type"), h.body)
    if len(parts) != 2:
        raise ValueError("%d parts, want profile and sample_type_config" % len(parts))
    (h1, profile), (h2, stc) = parts
    if disposition(h1) != ("profile", "profile.pprof"):
        raise ValueError("first part %r, want profile/profile.pprof" % (disposition(h1),))
    if disposition(h2) != ("sample_type_config", "sample_type_config.json"):
        raise ValueError("second part %r" % (disposition(h2),))
    if h2.get("content-type") != "application/json":
        raise ValueError("sample_type_config Content-Type %r" % h2.get("content-type"))
    check_pprof(profile)
    cfg = json.loads(stc)
    kind = None
    for k, types in PYRO_TYPES.items():
        if set(cfg) == set(types):
            kind = k
    if kind is None:
        raise ValueError("sample_type_config lists %s, not the types of a known kind" % sorted(cfg))
    for t, (units, agg, disp, sampled) in PYRO_TYPES[kind].items():
        want = {"units": units, "aggregation": agg, "display-name": disp, "sampled": sampled, "cumulative": False}
        if cfg[t] != want:
            raise ValueError("sample_type_config[%s] = %r, want %r" % (t, cfg[t], want))
    return [(kind, save(kind, profile))]


def datadog(h):
    if h.path != "/profiling/v1/input":
        raise ValueError("path %s, want /profiling/v1/input" % h.path)
    if h.headers.get("DD-EVP-ORIGIN") != "cprof":
        raise ValueError("DD-EVP-ORIGIN %r" % h.headers.get("DD-EVP-ORIGIN"))
    if not re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+.*", h.headers.get("DD-EVP-ORIGIN-VERSION", "")):
        raise ValueError("DD-EVP-ORIGIN-VERSION %r" % h.headers.get("DD-EVP-ORIGIN-VERSION"))
    parts = parse_multipart(h.headers.get("Content-Type"), h.body)
    eh, ev = parts[0]
    if disposition(eh) != ("event", "event.json") or eh.get("content-type") != "application/json":
        raise ValueError("first part is not event/event.json application/json")
    e = json.loads(ev)
    keys = {"version", "family", "start", "end", "attachments", "tags_profiler", "internal", "info"}
    if set(e) != keys:
        raise ValueError("event.json keys %s, want %s" % (sorted(e), sorted(keys)))
    if e["version"] != "4" or e["family"] != "native":
        raise ValueError("version %r family %r" % (e["version"], e["family"]))
    ts = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z"
    if not re.fullmatch(ts, e["start"]) or not re.fullmatch(ts, e["end"]) or e["start"] > e["end"]:
        raise ValueError("start %r end %r" % (e["start"], e["end"]))
    if e["info"] != {"profiler": {"activation": "manual", "ssi": {"mechanism": "none"}, "settings": {}}}:
        raise ValueError("info %r" % e["info"])
    tags = {}
    for kv in e["tags_profiler"].split(","):
        k, v = kv.split(":", 1)
        tags[k] = v
    want = {"service": EXPECT.get("service", tags.get("service")), "host": os.uname().nodename,
            "runtime": "native"}
    if "service_version" in EXPECT:
        want["version"] = EXPECT["service_version"]
    for kv in filter(None, EXPECT.get("tags", "").split(",")):
        k, v = kv.split(":", 1)
        want[k] = v
    for k, v in want.items():
        if tags.get(k) != v:
            raise ValueError("tag %s:%r, want %r" % (k, tags.get(k), v))
    for k in ("profile_seq", "process_id"):
        if not re.fullmatch(r"[0-9]+", tags.get(k, "")):
            raise ValueError("tag %s:%r" % (k, tags.get(k)))
    if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", tags.get("runtime-id", "")):
        raise ValueError("runtime-id %r" % tags.get("runtime-id"))
    names = [disposition(ph)[0] for ph, _ in parts[1:]]
    if names != e["attachments"]:
        raise ValueError("parts %s, attachments %s" % (names, e["attachments"]))
    allowed = {"cpu.pprof", "heap.pprof", "delta-allocs.pprof", "delta-block.pprof", "delta-mutex.pprof"}
    out = []
    for ph, payload in parts[1:]:
        n, fn = disposition(ph)
        if n != fn or n not in allowed or ph.get("content-type") != "application/octet-stream":
            raise ValueError("attachment part %r %r" % (n, fn))
        check_pprof(payload)
        kind = n[:-len(".pprof")].replace("delta-", "")
        out.append((kind, save(kind, payload)))
    return out


flaky_lock = threading.Lock()
flaky_count = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.body = self.rfile.read(n)
        if BEHAVIOUR == "slow":
            time.sleep(3)
        code = 500 if BEHAVIOUR == "fail500" else 200
        if BEHAVIOUR == "flaky":
            with flaky_lock:
                flaky_count[0] += 1
                code = 500 if flaky_count[0] % 2 == 0 else 200
        try:
            for kind, path in (pyroscope if MODE == "pyroscope" else datadog)(self):
                log("%s %s %s" % ("OK" if code == 200 or BEHAVIOUR == "fail500" else "REFUSED", kind, path))
        except Exception as ex:  # any malformed request is a finding
            log("BAD %s" % ex)
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
with open(os.path.join(OUT, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(OUT, "port.tmp"), os.path.join(OUT, "port"))
srv.serve_forever()
