#!/usr/bin/env python3
"""nonreaders.py HOST PORT N: open N connections that send and never read, until the server stops taking data
(nothing accepted for 2 s, or 120 s in all), print "held N reset=R sent=BYTES", then hold them until stdin closes.
Small client-side socket buffers (64 KiB, set before connecting) keep the kernel's share small, so the server's own
pending output is what fills up."""
import socket
import sys
import time

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
chunk = b"x" * 65536
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.settimeout(30)
    s.connect((host, port))
    s.setblocking(False)
    socks.append(s)

sent = 0
reset = 0
start = time.monotonic()
stalled_since = None
while time.monotonic() - start < 120:
    progress = 0
    for i, s in enumerate(socks):
        if s is None:
            continue
        try:
            progress += s.send(chunk)
        except BlockingIOError:
            pass
        except OSError:  # reset by the server (its budget): count it and go on with the others
            reset += 1
            s.close()
            socks[i] = None
    sent += progress
    if progress:
        stalled_since = None
        continue
    stalled_since = stalled_since or time.monotonic()
    if time.monotonic() - stalled_since > 2:
        break
    time.sleep(0.05)

print(f"held {n - reset} reset={reset} sent={sent}", flush=True)
sys.stdin.read()
