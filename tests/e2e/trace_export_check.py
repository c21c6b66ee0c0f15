#!/usr/bin/env python3
"""trace_export_check.py - summaries of cprof trace's exports for trace_export.sh.

  json FILE      the Chrome trace-event JSON: parses it and prints one JSON
                 object of counts (tracks, regions by name, tasks, logs,
                 counters, blocked spans, flows)
  perfetto FILE  protoc --decode's text of a Perfetto trace: the same counts,
                 names resolved through the interned data
"""
import collections
import json
import re
import sys


def summarize_json(path):
    d = json.load(open(path))
    ev = d["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
    depth = collections.Counter()
    bad_nesting = 0
    for e in ev:
        if e["ph"] == "B":
            depth[e["tid"]] += 1
        if e["ph"] == "E":
            depth[e["tid"]] -= 1
            if depth[e["tid"]] < 0:
                bad_nesting += 1
    b = [e for e in ev if e["ph"] == "b"]
    en = [e for e in ev if e["ph"] == "e"]
    s = [e for e in ev if e["ph"] == "s"]
    f = [e for e in ev if e["ph"] == "f"]
    blocked = [e for e in ev if e["ph"] == "X" and e.get("cat") == "blocked"]
    return {
        "threads": sorted(names.values()),
        "tid_of": {n: t for t, n in names.items()},
        "unbalanced": sum(1 for v in depth.values() if v) + bad_nesting,
        "regions": dict(collections.Counter(e["name"] for e in ev if e["ph"] == "B")),
        "task_begins": [[e["name"], e["id"], e["tid"]] for e in b],
        "task_ends": [[e["name"], e["id"], e["tid"]] for e in en],
        "logs": sum(1 for e in ev if e["ph"] == "i" and e.get("cat") == "log"),
        "counters": dict(collections.Counter(e["name"] for e in ev if e["ph"] == "C")),
        "blocked": dict(collections.Counter(e["name"] for e in blocked)),
        "blocked_us": sum(e["dur"] for e in blocked),
        "released_by": sorted(
            [e["tid"], e["args"].get("released_by", 0), e["args"]["call"], round(e["dur"])] for e in blocked),
        "flows": [len(s), len(f), len({e["id"] for e in s} & {e["id"] for e in f})],
        "cpu_samples": sum(1 for e in ev if e["ph"] == "i" and e.get("cat") == "cpu"),
        "cpu_weight": sum(e["args"]["weight"] for e in ev if e["ph"] == "i" and e.get("cat") == "cpu"),
        "process": [e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "process_name"],
    }


TOKEN = re.compile(r'\s*(?:([A-Za-z_][A-Za-z0-9_]*)\s*(:?)\s*|(\{)|(\})|("(?:[^"\\]|\\.)*")|([-+0-9.eE]+))')


def parse_text(s):
    """protoc's text format into nested lists of (name, value) pairs."""
    pos = 0
    stack = [[]]
    key = None
    while pos < len(s):
        m = TOKEN.match(s, pos)
        if not m or m.end() == pos:
            if s[pos:].strip() == "":
                break
            raise ValueError("cannot parse at %d: %r" % (pos, s[pos:pos + 40]))
        pos = m.end()
        ident, colon, lb, rb, string, num = m.groups()
        if ident is not None:
            if key is not None:  # an enum value: "key: VALUE"
                stack[-1].append((key, ident))
                key = None
            else:
                key = ident
        elif lb:
            child = []
            stack[-1].append((key, child))
            stack.append(child)
            key = None
        elif rb:
            stack.pop()
        elif string is not None:
            stack[-1].append((key, bytes(string[1:-1], "utf-8").decode("unicode_escape")))
            key = None
        else:
            stack[-1].append((key, num))
            key = None
    return stack[0]


def get(msg, name):
    return [v for k, v in msg if k == name]


def one(msg, name, default=None):
    v = get(msg, name)
    return v[0] if v else default


def summarize_perfetto(path):
    packets = get(parse_text(open(path).read()), "packet")
    interned = collections.defaultdict(dict)
    tracks = {}
    out = collections.defaultdict(collections.Counter)
    seq_flags = []
    flows_out, flows_in = set(), set()
    threads = {}
    task_tracks = {}
    counter_tracks = {}
    open_slices = collections.defaultdict(list)
    blocked_ns = 0
    perf = 0
    events = []
    defaults = {}
    for p in packets:
        seq = one(p, "trusted_packet_sequence_id")
        seq_flags.append((seq, int(one(p, "sequence_flags", "0"))))
        ts = int(one(p, "timestamp", "0"))
        for d in get(p, "trace_packet_defaults"):
            for ted in get(d, "track_event_defaults"):
                defaults[seq] = one(ted, "track_uuid")
        for idata in get(p, "interned_data"):
            for kind in ("event_names", "event_categories", "debug_annotation_names"):
                for e in get(idata, kind):
                    interned[seq, kind][one(e, "iid")] = one(e, "name")
        for td in get(p, "track_descriptor"):
            uuid = one(td, "uuid")
            th = one(td, "thread")
            if th is not None:
                name = one(th, "thread_name")
                threads[uuid] = name or threads.get(uuid) or "tid %s" % one(th, "tid")
            elif one(td, "counter") is not None:
                counter_tracks[uuid] = one(td, "name")
            elif one(td, "process") is not None:
                tracks[uuid] = "process"
            else:
                task_tracks[uuid] = one(td, "name")
        for te in get(p, "track_event"):
            events.append((ts, len(events), te, seq))
        if get(p, "perf_sample"):
            perf += 1
    # Perfetto orders events by time; the file holds each thread's in order, threads interleaved.
    for ts, _, te, seq in sorted(events, key=lambda x: (x[0], x[1])):
        typ = one(te, "type")
        track = one(te, "track_uuid", defaults.get(seq))
        name = interned[seq, "event_names"].get(one(te, "name_iid"))
        cat = interned[seq, "event_categories"].get(one(te, "category_iids"))
        for fid in get(te, "flow_ids"):
            flows_out.add(fid)
        for fid in get(te, "terminating_flow_ids"):
            flows_in.add(fid)
        if typ == "TYPE_SLICE_BEGIN":
            open_slices[track].append((ts, cat))
            if track in task_tracks:
                out["task_begins"][name] += 1
            elif cat == "region":
                out["regions"][name] += 1
            elif cat == "blocked":
                out["blocked"][name] += 1
        elif typ == "TYPE_SLICE_END":
            if open_slices[track]:
                b, cat = open_slices[track].pop()
                if cat == "blocked":
                    blocked_ns += ts - b
                if track in task_tracks:
                    out["task_ends"][task_tracks[track]] += 1
            else:
                out["unmatched_end"][str(track)] += 1
        elif typ == "TYPE_INSTANT":
            out["instants_" + str(cat)][name] += 1
        elif typ == "TYPE_COUNTER":
            out["counters"][counter_tracks.get(track, "?")] += 1
    first, other = {}, set()
    for seq, fl in seq_flags:
        if seq in first:
            other.add(fl)
        else:
            first[seq] = fl
    return {
        "sequences": len(first),
        "first_flags": sorted(set(first.values())),
        "other_flags": sorted(other),
        "threads": sorted(set(threads.values())),
        "task_tracks": sorted(set(task_tracks.values())),
        "counter_tracks": sorted(counter_tracks.values()),
        "regions": dict(out["regions"]),
        "task_begins": dict(out["task_begins"]),
        "task_ends": dict(out["task_ends"]),
        "logs": sum(out["instants_log"].values()),
        "log_categories": dict(out["instants_log"]),
        "counters": dict(out["counters"]),
        "blocked": dict(out["blocked"]),
        "blocked_ns": blocked_ns,
        "unmatched_end": sum(out["unmatched_end"].values()),
        "open_at_end": sum(len(v) for v in open_slices.values()),
        "flows": [len(flows_out), len(flows_in), len(flows_out & flows_in)],
        "perf_samples": perf,
    }


if __name__ == "__main__":
    what, path = sys.argv[1], sys.argv[2]
    s = summarize_json(path) if what == "json" else summarize_perfetto(path)
    print(json.dumps(s, sort_keys=True))
