#!/usr/bin/env python3
"""http_hostile.py - hostile and broken clients against a /debug/pprof
endpoint: random bytes, malformed and truncated requests, oversized
request lines, headers and bodies, slow clients that never finish, idle
connections, more connections at once than the endpoint takes. Between
rounds it checks that a well-formed request is still answered.

Usage: http_hostile.py PORT [SEED]
Prints "sent=N answered_ok=K ok_checks=M/T" and exits 0 when every check
after a hostile round was answered with 200.
"""
import random
import socket
import sys
import threading
import time

port = int(sys.argv[1])
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
sent = 0
ok_checks = 0
checks = 0


def conn(timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.settimeout(timeout)
    return s


def fire(data, read=True, timeout=1.0):
    """Send data, read what comes back until close or timeout; never raise."""
    global sent
    sent += 1
    try:
        s = conn(timeout)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)  # the endpoint sees the end at once
            if read:
                while s.recv(65536):
                    pass
        finally:
            s.close()
    except OSError:
        pass


def good():
    """A well-formed request must get 200."""
    global ok_checks, checks
    checks += 1
    for _ in range(50):  # the endpoint may still be closing the last round's connections
        try:
            s = conn(5)
            s.sendall(b"GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            got = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got += b
            s.close()
            if got.startswith(b"HTTP/1.1 200"):
                ok_checks += 1
                return
        except OSError:
            pass
        time.sleep(0.2)


VALID = b"GET /debug/pprof/cmdline HTTP/1.1\r\nHost: x\r\n\r\n"
MALFORMED = [
    b"\r\n\r\n", b"GET\r\n\r\n", b"GET /\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n",
    b"get /debug/pprof/ http/1.1\r\n\r\n", b"GET /debug/pprof/ HTTP/1.1\n\n", b"\x00\x01\x02\x03\r\n\r\n",
    b"GET /debug/pprof/%zz HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /debug/pprof/%00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET http://evil/debug/pprof/ HTTP/1.1\r\nHost: x\r\n\r\n", b"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
    b"CONNECT x:1 HTTP/1.1\r\nHost: x\r\n\r\n", b"DELETE /debug/pprof/ HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n0x1",
    b"POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n0x1\r\n0\r\n\r\n",
    b"POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\n0x1\r\n0\r\n\r\n",
    b"POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
    b"GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\n Folded: header\r\n\r\n", b"GET /debug/pprof/ HTTP/1.1\r\n: empty\r\n\r\n",
    b"GET /debug/pprof/profile?seconds=999999999999 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /debug/pprof/profile?seconds=-5&hz=abc HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /debug/pprof/symbol?" + b"+".join(b"0x%x" % rng.getrandbits(64) for _ in range(300)) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /debug/pprof/?" + b"&".join(b"k%d=v" % i for i in range(500)) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    VALID * 50,  # pipelined
]

# Round 1: random bytes.
for i in range(200):
    n = rng.choice([0, 1, 5, 64, 512, 4096])
    data = bytes(rng.getrandbits(8) for _ in range(n))
    if rng.random() < 0.5:
        data += b"\r\n\r\n"
    fire(data)
good()

# Round 2: malformed requests, each several times.
for _ in range(4):
    for m in MALFORMED:
        fire(m)
good()

# Round 3: truncated requests, closed mid-way.
reqs = [VALID, b"POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n0x1000+0x2000+0x3000"]
for i in range(100):
    r = rng.choice(reqs)
    fire(r[: rng.randrange(len(r))], read=False)
good()

# Round 4: oversized request line, headers, header count, body.
fire(b"GET /debug/pprof/" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
fire(b"GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 200000 + b"\r\n\r\n")
fire(b"GET /debug/pprof/ HTTP/1.1\r\n" + b"".join(b"H%d: v\r\n" % i for i in range(20000)) + b"\r\n")
fire(b"POST /debug/pprof/symbol HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n\r\n" + b"0x1+" * 1000000)
good()


# Round 5: slow clients (a byte at a time, never finishing) and idle ones,
# more of them at once than the endpoint accepts.
def slow(secs):
    global sent
    sent += 1
    try:
        s = conn(secs + 5)
        end = time.time() + secs
        for b in b"GET /debug/pprof/heap?debug=1 HTTP/1.1\r\nHost: x\r\nX-Slow: ":
            if time.time() > end:
                break
            s.send(bytes([b]))
            time.sleep(0.05)
        s.close()
    except OSError:
        pass


threads = [threading.Thread(target=slow, args=(2.0,)) for _ in range(100)]
idle = []
for _ in range(30):
    try:
        idle.append(conn())
    except OSError:
        pass
for t in threads:
    t.start()
for t in threads:
    t.join()
for s in idle:
    s.close()
good()

print("sent=%d ok_checks=%d/%d" % (sent, ok_checks, checks))
sys.exit(0 if ok_checks == checks else 1)
