"""tunnelio: what the sign-in tests' drivers (signin.sh's fleet.py and
paste.py) do with one pom-proxy whose stdin and stdout are pipes: send a
line and see it echoed through the tunnel, then end it and collect its
exit status, all by a monotonic deadline."""
import os
import select
import subprocess
import time


def echo(p, msg, end):
    """Write msg to p's stdin and read its stdout until msg came back,
    something else did, it closed, or the monotonic clock passed end.
    Returns "ok" or "bad " and the first 200 bytes read."""
    try:
        p.stdin.write(msg)
        p.stdin.flush()
    except OSError:
        pass
    got, fd = b"", p.stdout.fileno()
    while len(got) < len(msg) and msg.startswith(got):
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        d = os.read(fd, 65536)
        if not d:
            break
        got += d
    return "ok" if got == msg else "bad %r" % got[:200]


def close_and_wait(p, end):
    """Close p's stdin and stdout (what ssh does when it is done) and wait
    for p until end, at least half a second; kill it after that. Returns
    its exit status, or "timeout"."""
    for f in (p.stdin, p.stdout):
        try:
            f.close()
        except OSError:
            pass
    try:
        return p.wait(max(0.5, end - time.monotonic()))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return "timeout"
