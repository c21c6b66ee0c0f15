#!/usr/bin/env python3
"""The interactive shell of `cprof pprof` on a pseudo-terminal (run by
pprof_interactive.sh): libedit line editing, tab completion of commands,
options, option values and function names, history. go tool pprof 1.19 has
no completion to compare with, so each step checks what cprof shows.
Usage: pprof_interactive_pty.py CPROF DATA_DIR. Prints PASS/FAIL lines.
Waits for output with a deadline only to stop a hung shell; nothing is timed."""
import os
import pty
import select
import sys
import termios
import time

cprof, data = sys.argv[1], sys.argv[2]
DEADLINE = 30.0


class Shell:
    def __init__(self, args):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["TERM"] = "xterm"
            os.execv(args[0], args)
        self.out = b""
        self.seen = 0  # output before this offset has been matched already

    def read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            d = os.read(self.fd, 65536)
        except OSError:
            return False
        self.out += d
        return bool(d)

    def expect(self, text):
        """Wait until text appears after what was matched before; True if it does."""
        t = text.encode()
        end = time.monotonic() + DEADLINE
        while True:
            i = self.out.find(t, self.seen)
            if i >= 0:
                self.seen = i + len(t)
                return True
            if time.monotonic() > end or not self.read(0.2):
                if time.monotonic() > end:
                    return False

    def send(self, keys):
        os.write(self.fd, keys.encode())

    def tail(self):
        return self.out[self.seen:][-200:].decode(errors="replace").replace("\r", "").replace("\n", "|")


def check(name, ok, sh):
    print(("PASS %s" % name) if ok else ("FAIL %s: got %r" % (name, sh.tail())))


sh = Shell([cprof, "pprof", os.path.join(data, "go-cpu.pb.gz")])
check("pty greeting and prompt", sh.expect('Entering interactive mode (type "help" for commands, "o" for options)')
      and sh.expect("(pprof) "), sh)

# "to" + TAB completes the command: the report runs, no "unrecognized command".
sh.send("to\t\r")
check("pty completes a command", sh.expect("Showing nodes accounting for 300ms, 100% of 300ms total")
      and b'unrecognized command' not in sh.out, sh)

# A function name: the one that contains "Sum2" becomes the focus.
sh.expect("(pprof) ")
sh.send("top Sum2\t\r")
check("pty completes a function name", sh.expect("focus=crypto/sha256.Sum256"), sh)

# History: up arrow brings the last line back.
sh.expect("(pprof) ")
sh.send("\x1b[A\r")
check("pty history", sh.expect("focus=crypto/sha256.Sum256"), sh)

# Several functions match: they are listed, the line stays.
sh.expect("(pprof) ")
sh.send("top sha\t")
check("pty lists several matches",
      sh.expect("crypto/sha256.(*digest).Write") and sh.expect("crypto/sha256.Sum256")
      and sh.expect("crypto/sha256.block"), sh)
sh.send("\x15")  # ^U: kill the line

# An option name, then its value from the profile's sample types.
sh.send("sample_in\t=sam\t\r")
sh.send("o\r")
check("pty completes an option and its value", sh.expect("sample_index              = samples"), sh)

# help + an option name
sh.expect("(pprof) ")
sh.send("hel\t nodeco\t\r")
check("pty completes help's argument", sh.expect("Max number of nodes to show"), sh)

# Once the prompt shows, the terminal is in the editor's mode: a key typed
# right then reaches the editor (in cooked mode the line discipline would
# echo it, and turn a ^D into an end-of-file mark read as a NUL byte).
sh.expect("(pprof) ")
slave = os.open(os.readlink("/proc/%d/fd/0" % sh.pid), os.O_RDWR | os.O_NOCTTY)
lflag = termios.tcgetattr(slave)[3]
os.close(slave)
check("pty prompt shown in the editor's mode", not (lflag & termios.ICANON), sh)

# ^D, pressed once, ends the shell with status 0.
sh.send("\x04")
end = time.monotonic() + DEADLINE
status = None
while time.monotonic() < end:
    pid, st = os.waitpid(sh.pid, os.WNOHANG)
    if pid:
        status = st
        break
    sh.read(0.2)
if status is None:
    os.kill(sh.pid, 9)
    os.waitpid(sh.pid, 0)
check("pty ^D exits with status 0", status is not None and os.WIFEXITED(status)
      and os.WEXITSTATUS(status) == 0, sh)
