#!/usr/bin/env python3
"""pprof_reject_gen.py OUTDIR BASE.pb.gz... - the bad-input corpus of
tests/e2e/pprof_reject.sh, written as OUTDIR/<category>/<case> files.

Deterministic (fixed seeds, no clock): the same files on every run. The
categories are what a reader of profile.proto must get right:

  empty      empty files, empty gzip
  text       random text lines (words, punctuation, digits)
  bytes      random bytes
  truncate   a real profile cut at many offsets (raw and gzipped)
  bitflip    a real profile with one bit flipped
  strings    string indices out of range, string_table[0] not ""
  ids        zero, duplicate and dangling mapping/location/function ids
  values     a sample value count other than the sample_type count
  wiretype   known fields with the wrong wire type
  length     lengths and varints running past the end; bad tags
  gzip       a gzip stream with a corrupt body, trailer or size
  legacy     pprof's legacy text and gperftools' CPU format, cut or with one
             byte changed
  valid      valid profiles that are odd, and folded stacks (cprof only)

A small profile is built here from a description, so each semantic case
changes exactly one thing in an otherwise valid profile.
"""
import gzip
import os
import random
import sys
import zlib

from pbwire import varint

# ---------------------------------------------------------------- wire


def tag(field, wt):
    return varint(field << 3 | wt)


def f_varint(field, v):
    return tag(field, 0) + varint(v)


def f_bytes(field, b):
    return tag(field, 2) + varint(len(b)) + b


def f_fixed64(field, v):
    return tag(field, 1) + (v & (1 << 64) - 1).to_bytes(8, "little")


def f_fixed32(field, v):
    return tag(field, 5) + (v & (1 << 32) - 1).to_bytes(4, "little")


def packed(field, vals):
    return f_bytes(field, b"".join(varint(v) for v in vals))


# ---------------------------------------------------------------- profiles


def base():
    """A valid two-type profile with mappings, inlined frames and labels."""
    return {
        "strings": ["", "samples", "count", "cpu", "nanoseconds", "main", "work",
                    "main.c", "/bin/prog", "thread", "worker", "bytes", "helper",
                    "comment one", "abc123"],
        "sample_type": [(1, 2), (3, 4)],
        "sample": [
            {"loc": [2, 1], "val": [3, 3000], "label": [(9, 10, 0, 0)]},
            {"loc": [3, 1], "val": [1, 1000], "label": [(11, 0, 4096, 11)]},
            {"loc": [1], "val": [2, 2000], "label": []},
        ],
        "mapping": [{"id": 1, "start": 0x400000, "limit": 0x500000, "off": 0,
                     "file": 8, "build": 14, "hasfn": 1}],
        "location": [
            {"id": 1, "map": 1, "addr": 0x401000, "line": [(1, 10)]},
            {"id": 2, "map": 1, "addr": 0x401100, "line": [(3, 5), (2, 20)]},
            {"id": 3, "map": 1, "addr": 0x401200, "line": [(2, 22)]},
        ],
        "function": [
            {"id": 1, "name": 5, "sys": 5, "file": 7, "start": 8},
            {"id": 2, "name": 6, "sys": 6, "file": 7, "start": 18},
            {"id": 3, "name": 12, "sys": 12, "file": 7, "start": 3},
        ],
        "drop": 0, "keep": 0, "time": 1700000000000000000, "dur": 1000000000,
        "period_type": (3, 4), "period": 1000000, "comment": [13],
        "default": 3,
    }


def enc_vt(vt):
    return f_varint(1, vt[0]) + f_varint(2, vt[1])


def enc_sample(s):
    b = packed(1, s["loc"]) if s["loc"] else b""
    b += packed(2, s["val"]) if s["val"] else b""
    for k, st, num, unit in s["label"]:
        lb = f_varint(1, k)
        if st:
            lb += f_varint(2, st)
        if num:
            lb += f_varint(3, num)
        if unit:
            lb += f_varint(4, unit)
        b += f_bytes(3, lb)
    return b


def enc_mapping(m):
    b = f_varint(1, m["id"]) + f_varint(2, m["start"]) + f_varint(3, m["limit"])
    b += f_varint(4, m["off"]) + f_varint(5, m["file"]) + f_varint(6, m["build"])
    return b + f_varint(7, m["hasfn"])


def enc_location(l):
    b = f_varint(1, l["id"])
    if l["map"]:
        b += f_varint(2, l["map"])
    b += f_varint(3, l["addr"])
    for fn, line in l["line"]:
        b += f_bytes(4, f_varint(1, fn) + f_varint(2, line))
    return b


def enc_function(f):
    return (f_varint(1, f["id"]) + f_varint(2, f["name"]) + f_varint(3, f["sys"]) +
            f_varint(4, f["file"]) + f_varint(5, f["start"]))


def encode(p):
    b = b"".join(f_bytes(1, enc_vt(vt)) for vt in p["sample_type"])
    b += b"".join(f_bytes(2, enc_sample(s)) for s in p["sample"])
    b += b"".join(f_bytes(3, enc_mapping(m)) for m in p["mapping"])
    b += b"".join(f_bytes(4, enc_location(l)) for l in p["location"])
    b += b"".join(f_bytes(5, enc_function(f)) for f in p["function"])
    b += b"".join(f_bytes(6, s.encode()) for s in p["strings"])
    if p["drop"]:
        b += f_varint(7, p["drop"])
    if p["keep"]:
        b += f_varint(8, p["keep"])
    b += f_varint(9, p["time"]) + f_varint(10, p["dur"])
    b += f_bytes(11, enc_vt(p["period_type"])) + f_varint(12, p["period"])
    if p["comment"]:
        b += packed(13, p["comment"])
    if p["default"]:
        b += f_varint(14, p["default"])
    return b + p.get("extra", b"")


def mutated(fn):
    p = base()
    fn(p)
    return encode(p)


# ---------------------------------------------------------------- output

OUT, DATA = sys.argv[1], sys.argv[2]
BASES = [gzip.decompress(open(os.path.join(DATA, f), "rb").read())
         for f in ("go-cpu.pb.gz", "conformance/cprof-inline.pb.gz")]
LEGACY = [open(os.path.join(DATA, f), "rb").read()
          for f in ("legacy_text/heapz_v2.txt", "legacy_text/contentionz.txt",
                    "legacy_text/threadz.txt", "legacy_text/goroutine.txt",
                    "legacy_text/java_heapz.txt", "conformance/gperf-cpu-split.prof")]


def put(cat, name, data):
    d = os.path.join(OUT, cat)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, mtime=0)


def setk(path, v):
    """A mutation setting p[path...] = v."""
    def f(p):
        o = p
        for k in path[:-1]:
            o = o[k]
        o[path[-1]] = v
    return f


# empty
put("empty", "zero_bytes", b"")
put("empty", "gzip_of_nothing", gz(b""))
put("empty", "newline", b"\n")
put("empty", "gzip_magic_only", b"\x1f\x8b")

# text: lines of words, some with numbers, some like other formats' headers
rng = random.Random(1)
WORDS = ["heap", "profile", "cpu", "main", "0x4005d0", "@", "---", "total", "samples",
         "1:", "[", "]", "func", "x;y", "GC", "=", "binary", "nanoseconds", "12", "-3",
         "3.5", "thread", "#", "goroutine", "contention", "%", "MAPPED_LIBRARIES:"]
for i in range(24):
    lines = []
    for _ in range(rng.randint(1, 6)):
        lines.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 7))))
    put("text", "lines_%02d" % i, ("\n".join(lines) + "\n").encode())
for i in range(6):
    n = rng.randint(1, 120)
    put("text", "printable_%02d" % i,
        bytes(rng.randint(0x20, 0x7E) for _ in range(n)))

# bytes
rng = random.Random(2)
for i in range(24):
    n = rng.choice([1, 2, 3, 5, 8, 16, 40, 100, 300])
    put("bytes", "random_%02d" % i, bytes(rng.getrandbits(8) for _ in range(n)))

# truncate: a real profile cut at many offsets
for bi, b in enumerate(BASES):
    offs = sorted(set([1, 2, 3, 5, 8, 13] + [len(b) * k // 17 for k in range(1, 17)] +
                      [len(b) - 1]))
    for o in offs:
        put("truncate", "raw%d_at_%05d" % (bi, o), b[:o])
    z = gz(b)
    for o in sorted(set([3, 10, len(z) // 3, len(z) // 2, len(z) - 8, len(z) - 4,
                         len(z) - 1])):
        put("truncate", "gz%d_at_%05d" % (bi, o), z[:o])

# bitflip: one bit of a real profile
rng = random.Random(3)
for bi, b in enumerate(BASES):
    for i in range(20):
        pos = rng.randrange(len(b))
        bit = rng.randrange(8)
        m = bytearray(b)
        m[pos] ^= 1 << bit
        put("bitflip", "raw%d_%05d_%d" % (bi, pos, bit), bytes(m))

# strings: each string reference out of range, in turn
S = len(base()["strings"])
put("strings", "sample_type_type", mutated(lambda p: p["sample_type"].__setitem__(0, (S, 2))))
put("strings", "sample_type_unit", mutated(lambda p: p["sample_type"].__setitem__(1, (3, S + 5))))
put("strings", "period_type_type", mutated(setk(["period_type"], (S, 4))))
put("strings", "drop_frames", mutated(setk(["drop"], S)))
put("strings", "keep_frames", mutated(setk(["keep"], S + 100)))
put("strings", "default_sample_type", mutated(setk(["default"], S)))
put("strings", "comment", mutated(setk(["comment"], [13, S])))
put("strings", "negative_index", mutated(setk(["function", 0, "name"], -1)))
put("strings", "function_name", mutated(setk(["function", 1, "name"], S)))
put("strings", "function_system_name", mutated(setk(["function", 1, "sys"], S)))
put("strings", "function_filename", mutated(setk(["function", 2, "file"], 1 << 40)))
put("strings", "mapping_filename", mutated(setk(["mapping", 0, "file"], S)))
put("strings", "mapping_build_id", mutated(setk(["mapping", 0, "build"], S)))
put("strings", "label_key", mutated(setk(["sample", 0, "label"], [(S, 10, 0, 0)])))
put("strings", "label_str", mutated(setk(["sample", 0, "label"], [(9, S, 0, 0)])))
put("strings", "label_num_unit", mutated(setk(["sample", 1, "label"], [(11, 0, 5, S)])))
put("strings", "first_not_empty", mutated(setk(["strings", 0], "x")))
put("strings", "first_is_nul", mutated(setk(["strings", 0], "\0")))
put("strings", "no_string_table", mutated(setk(["strings"], [])))
put("strings", "doc_url", mutated(setk(["extra"], f_varint(15, S))))
put("strings", "index_equals_count", mutated(setk(["function", 0, "file"], S)))

# ids
put("ids", "sample_unknown_location", mutated(setk(["sample", 0, "loc"], [2, 9])))
put("ids", "sample_location_zero", mutated(setk(["sample", 2, "loc"], [0])))
put("ids", "sample_location_huge", mutated(setk(["sample", 2, "loc"], [1 << 63])))
put("ids", "line_unknown_function", mutated(setk(["location", 1, "line"], [(3, 5), (7, 20)])))
put("ids", "line_function_zero", mutated(setk(["location", 2, "line"], [(0, 22)])))
put("ids", "location_id_zero", mutated(setk(["location", 2, "id"], 0)))
put("ids", "location_id_duplicate", mutated(setk(["location", 2, "id"], 2)))
put("ids", "function_id_zero", mutated(setk(["function", 2, "id"], 0)))
put("ids", "function_id_duplicate", mutated(setk(["function", 2, "id"], 1)))
put("ids", "mapping_id_zero", mutated(setk(["mapping", 0, "id"], 0)))
put("ids", "mapping_id_duplicate",
    mutated(lambda p: p["mapping"].append(dict(p["mapping"][0], start=0x600000, limit=0x700000))))
# ids that are valid but not 1..n
put("ids", "sparse_ids_valid", mutated(lambda p: (
    setk(["location", 2, "id"], 1000)(p), setk(["sample", 1, "loc"], [1000, 1])(p),
    setk(["function", 2, "id"], 77)(p), setk(["location", 1, "line"], [(77, 5), (2, 20)])(p))))

# values
put("values", "one_value_of_two", mutated(setk(["sample", 1, "val"], [1])))
put("values", "three_values_of_two", mutated(setk(["sample", 0, "val"], [1, 2, 3])))
put("values", "no_values", mutated(setk(["sample", 2, "val"], [])))
put("values", "samples_without_types", mutated(setk(["sample_type"], [])))
put("values", "no_samples_no_types", mutated(lambda p: (setk(["sample_type"], [])(p),
                                                         setk(["sample"], [])(p))))

# wiretype: a known field with another wire type appended to a valid profile
wt_cases = [
    ("profile_sample_type_varint", f_varint(1, 5)),
    ("profile_sample_fixed64", f_fixed64(2, 5)),
    ("profile_mapping_fixed32", f_fixed32(3, 5)),
    ("profile_location_varint", f_varint(4, 1)),
    ("profile_function_varint", f_varint(5, 1)),
    ("profile_string_table_varint", f_varint(6, 0)),
    ("profile_drop_frames_len", f_bytes(7, b"")),
    ("profile_time_nanos_fixed64", f_fixed64(9, 1)),
    ("profile_period_type_varint", f_varint(11, 0)),
    ("profile_period_len", f_bytes(12, b"\x01")),
    ("profile_comment_fixed32", f_fixed32(13, 1)),
    ("profile_default_sample_type_len", f_bytes(14, b"")),
    ("sample_location_fixed64", f_bytes(2, f_fixed64(1, 1) + packed(2, [1, 1]))),
    ("sample_value_fixed32", f_bytes(2, packed(1, [1]) + f_fixed32(2, 1))),
    ("sample_label_varint", f_bytes(2, packed(1, [1]) + packed(2, [1, 1]) + f_varint(3, 9))),
    ("label_key_len", f_bytes(2, packed(1, [1]) + packed(2, [1, 1]) + f_bytes(3, f_bytes(1, b"")))),
    ("mapping_id_len", f_bytes(3, f_bytes(1, b"\x05"))),
    ("mapping_has_functions_fixed64", f_bytes(3, f_varint(1, 5) + f_fixed64(7, 1))),
    ("location_address_fixed64", f_bytes(4, f_varint(1, 9) + f_fixed64(3, 0x401000))),
    ("location_line_varint", f_bytes(4, f_varint(1, 9) + f_varint(4, 1))),
    ("line_line_len", f_bytes(4, f_varint(1, 9) + f_bytes(4, f_varint(1, 1) + f_bytes(2, b"")))),
    ("function_name_fixed32", f_bytes(5, f_varint(1, 9) + f_fixed32(2, 5))),
    ("function_start_line_len", f_bytes(5, f_varint(1, 9) + f_bytes(5, b"\x01"))),
    ("valuetype_unit_fixed64", f_bytes(1, f_varint(1, 1) + f_fixed64(2, 2))),
    # fields of profile.proto that Go 1.19's reader does not know yet
    ("line_column_len", f_bytes(4, f_varint(1, 9) + f_bytes(4, f_varint(1, 1) + f_bytes(3, b"")))),
    ("profile_doc_url_fixed64", f_fixed64(15, 1)),
]
for name, extra in wt_cases:
    put("wiretype", name, mutated(setk(["extra"], extra)))
# unknown fields of every wire type are skipped by both readers
put("valid", "unknown_fields_all_wire_types", mutated(setk(["extra"], f_varint(100, 1) + f_fixed64(101, 2) + f_bytes(102, b"xyz") + f_fixed32(103, 3))))

# length: lengths and varints past the end, bad tags, appended to a valid profile
good = encode(base())
len_cases = [
    ("top_len_past_end", tag(6, 2) + varint(50) + b"abc"),
    ("top_len_huge", tag(2, 2) + varint(1 << 62)),
    ("nested_len_past_parent", f_bytes(2, tag(3, 2) + varint(9) + b"\x08")),
    ("packed_len_past_parent", f_bytes(2, tag(1, 2) + varint(5) + b"\x01\x02")),
    ("packed_truncated_varint", f_bytes(2, tag(1, 2) + varint(2) + b"\x01\x81") + b""),
    ("truncated_varint_value", tag(9, 0) + b"\xff"),
    ("truncated_tag", b"\x80"),
    ("varint_11_bytes", tag(10, 0) + b"\xff" * 10 + b"\x01"),
    ("fixed64_short", tag(100, 1) + b"\x01\x02\x03"),
    ("fixed32_short", tag(100, 5) + b"\x01"),
    ("wire_type_3", tag(100, 3)),
    ("wire_type_4", tag(100, 4)),
    ("wire_type_6", tag(100, 6) + b"\x00"),
    ("wire_type_7", tag(100, 7) + b"\x00"),
]
for name, extra in len_cases:
    put("length", name, good + extra)
put("length", "prefix_len_past_end", tag(1, 2) + varint(len(good) + 10) + good)
put("length", "concatenated_profiles", good + good)

# gzip
z = bytearray(gz(good))
m = bytearray(z)
m[len(m) // 2] ^= 0xFF
put("gzip", "corrupt_body", bytes(m))
m = bytearray(z)
m[-6] ^= 0x01
put("gzip", "corrupt_crc", bytes(m))
m = bytearray(z)
m[-2] ^= 0x01
put("gzip", "corrupt_isize", bytes(m))
put("gzip", "trailing_garbage", bytes(z) + b"garbage")
put("gzip", "trailing_zeros", bytes(z) + b"\0" * 8)
put("gzip", "header_only", bytes(z[:10]))
put("gzip", "two_members", gz(good[:len(good) // 2]) + gz(good[len(good) // 2:]))
put("gzip", "wrapped_twice", gz(gz(good)))
put("gzip", "gzip_of_text", gz(b"hello world\n"))
m = bytearray(z)
m[2] = 7  # compression method other than deflate
put("gzip", "bad_method", bytes(m))
put("gzip", "raw_deflate_body", zlib.compress(good))

# legacy: cut at a few offsets, one byte replaced by a printable one
rng = random.Random(4)
for li, b in enumerate(LEGACY):
    for k in (1, 3, 5):
        o = len(b) * k // 7
        put("legacy", "f%d_cut_%04d" % (li, o), b[:o])
    for _ in range(3):
        pos = rng.randrange(len(b))
        m = bytearray(b)
        m[pos] = rng.choice(b"0x@ :[]-\n;zA")
        put("legacy", "f%d_byte_%04d" % (li, pos), bytes(m))

# gperftools' binary CPU format: header variants, zero-filled files
import struct


def words(*a):
    return b"".join(struct.pack("<Q", x) for x in a)


put("legacy", "gperf_header_only", words(0, 3, 0, 10000, 0))
put("legacy", "gperf_zero_period", words(0, 3, 0, 0, 0) + words(0, 1, 0))
put("legacy", "gperf_sample_cut", words(0, 3, 0, 10000, 0) + words(5, 2, 0x400000))
put("legacy", "gperf_32bit", struct.pack("<8I", 0, 3, 0, 10000, 0, 0, 1, 0))
for n in (8, 64, 4096):
    put("legacy", "zeros_%d" % n, bytes(n))

# valid but odd: both readers must accept these
put("valid", "base", good)
put("valid", "base_gzip", bytes(z))
put("valid", "only_string_table", f_bytes(6, b""))
put("valid", "no_samples", mutated(setk(["sample"], [])))
put("valid", "location_unknown_mapping", mutated(setk(["location", 0, "map"], 42)))
put("valid", "location_without_lines", mutated(setk(["location", 2, "line"], [])))
put("valid", "sample_without_locations", mutated(setk(["sample", 2, "loc"], [])))
put("valid", "unpacked_repeated", mutated(setk(["extra"], f_bytes(2, f_varint(1, 1) + f_varint(1, 2) + f_varint(2, 4) + f_varint(2, 5)))))
put("valid", "string_with_nul_inside", mutated(setk(["strings", 13], "a\0b")))
put("valid", "negative_values", mutated(setk(["sample", 0, "val"], [-3, -3000])))
put("valid", "time_zero_twice", mutated(lambda p: (setk(["time"], 0)(p), setk(["extra"], f_varint(9, 0))(p))))
put("valid", "label_key_only", mutated(setk(["sample", 0, "label"], [(9, 0, 0, 0)])))
put("valid", "label_str_and_num", mutated(setk(["sample", 0, "label"], [(9, 10, 5, 11)])))
put("valid", "location_twice_in_sample", mutated(setk(["sample", 0, "loc"], [2, 2, 1, 1])))
put("valid", "string_table_first",
    b"".join(f_bytes(6, x.encode()) for x in base()["strings"]) + mutated(setk(["strings"], [])))
put("valid", "label_num_without_unit", mutated(setk(["sample", 1, "label"], [(11, 0, 7, 0)])))
for bi, b in enumerate(BASES):
    put("valid", "real%d" % bi, b)
# collapsed stacks: text cprof reads and go tool pprof does not
put("valid", "folded_one_line", b"main;work 12\n")
put("valid", "folded_comment", b"# stacks\nmain;work;leaf 3\n\nmain 1\n")
put("valid", "folded_words", b"heap profile 12\n")
