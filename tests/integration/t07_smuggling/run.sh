#!/usr/bin/env bash
# t07_smuggling: hostile input over raw sockets.  SMTP smuggling: for each
# lookalike end-of-data (\n.\n, \r.\r, ...) followed by a smuggled
# MAIL/RCPT/DATA message and then the real \r\n.\r\n, the smuggled message
# is never delivered; with bare_newline = reject (default) the outer one
# gets 550 5.5.2, with normalize it is delivered as one message holding the
# bytes.  Also NUL bytes, an over-long command line (500 5.5.2), binary
# junk, 10,000 RCPTs (452 beyond the limit, bounded), and a client that
# vanishes mid-DATA (nothing delivered, nothing left behind).  The server
# must stay up throughout.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern

"$PY" - <<'PYEOF'
import os, random, re, socket, struct, threading, time
from tern import Tap, Tern, Raw, header, wait_until, port_open

t = Tap()
srv = Tern(7, "reject", max_recipients=100)
srv.domain("example.test", users=["alice", "bob"])
norm = Tern(7, "normalize", bare_newline="normalize", max_recipients=100)
norm.port = norm.ports(1)
norm.listens = [("mx", "%s:%d" % (norm.host, norm.port), "mx")]
norm.domain("example.test", users=["alice", "bob"])
if not t.ok(srv.start() and norm.start(), "two terns start (bare_newline reject and normalize)"):
    t.done()
pid = os.getpid()

def everything(s):
    """All message files of server s, as bytes."""
    out = []
    for p in s.all_maildir_files():
        with open(p, "rb") as f:
            out.append(f.read())
    return out

def delivered_with_id(s, mid):
    return [m for m in everything(s) if header(m, "Message-ID") == mid]

def alive(s):
    if not s.alive():
        return False
    try:
        with Raw(s.host, s.port, timeout=10) as c:
            return c.greeting[0] == 220 and c.cmd("NOOP")[0] == 250
    except (OSError, EOFError, ValueError):
        return False

SEQS = [("LF.LF", b"\n.\n"), ("CR.CR", b"\r.\r"), ("LF.CRLF", b"\n.\r\n"),
        ("CRLF.LF", b"\r\n.\n"), ("CR.CRLF", b"\r.\r\n"), ("CRLF.CR", b"\r\n.\r"),
        ("LF.CR", b"\n.\r"), ("CRLF-NUL.CRLF", b"\r\n\x00.\r\n")]

def smuggle(s, name, seq):
    """Sends one outer message with seq + a smuggled transaction inside.
    Returns (replies to the final dot and a NOOP, outer id, smuggled id)."""
    outer = "<t07-outer-%s-%d-%s@test.example>" % (name, pid, s.dir[-4:])
    smug = "<t07-smuggled-%s-%d-%s@test.example>" % (name, pid, s.dir[-4:])
    payload = (b"From: <s@remote.example>\r\nTo: <alice@example.test>\r\nSubject: outer\r\n"
               b"Message-ID: " + outer.encode() + b"\r\n\r\nouter body" + seq +
               b"MAIL FROM:<evil@remote.example>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
               b"From: <evil@remote.example>\r\nTo: <bob@example.test>\r\nSubject: smuggled\r\n"
               b"Message-ID: " + smug.encode() + b"\r\n\r\nsmuggled body\r\n.\r\n")
    with Raw(s.host, s.port) as c:
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<s@remote.example>")
        c.cmd("RCPT TO:<alice@example.test>")
        if c.cmd("DATA")[0] != 354:
            return None, outer, smug
        c.send(payload)
        r1 = c.reply()
        # Anything the server said for a smuggled transaction would come
        # before the NOOP's reply.
        c.send(b"NOOP\r\n")
        rest = [c.reply()]
        while rest[-1][1] and not rest[-1][1].startswith("2.0.0") and len(rest) < 6:
            rest.append(c.reply())
        return [r1] + rest, outer, smug

for name, seq in SEQS:
    rs, outer, smug = smuggle(srv, name, seq)
    if rs is None:
        t.ok(False, "reject %s: DATA got 354" % name)
        continue
    nul = b"\x00" in seq
    if nul:
        t.ok(rs[0][0] in (250, 550, 554), "reject %s: outer message answered 250 or 5xx" % name, rs)
    else:
        t.ok(rs[0][0] == 550 and rs[0][1].startswith("5.5.2"),
             "reject %s: outer message 550 5.5.2" % name, rs)
    t.ok(len(rs) == 2 and rs[1][0] == 250, "reject %s: no reply for a smuggled command" % name, rs)
    time.sleep(0.3)
    t.eq(delivered_with_id(srv, smug), [], "reject %s: smuggled message not delivered" % name)
    if not nul:
        t.eq(delivered_with_id(srv, outer), [], "reject %s: outer message not delivered" % name)

    rs, outer, smug = smuggle(norm, name, seq)
    if rs is None:
        t.ok(False, "normalize %s: DATA got 354" % name)
        continue
    t.ok(rs[0][0] == 250 or (nul and rs[0][0] in (550, 554)),
         "normalize %s: outer message 250" % name, rs)
    t.ok(len(rs) == 2 and rs[1][0] == 250, "normalize %s: no reply for a smuggled command" % name, rs)
    time.sleep(0.3)
    t.eq(delivered_with_id(norm, smug), [], "normalize %s: smuggled message not delivered on its own" % name)
    if rs[0][0] == 250:
        got = wait_until(lambda: delivered_with_id(norm, outer), 10) or []
        t.ok(len(got) == 1 and b"MAIL FROM:<evil@remote.example>" in got[0] and smug.encode() in got[0],
             "normalize %s: outer delivered once, smuggled bytes inside it" % name, got)
        if got:
            t.ok(b"\r" not in got[0], "normalize %s: stored with LF line endings only" % name)

t.ok(alive(srv) and alive(norm), "both servers up after the smuggling attempts")

# ---- NUL bytes in commands ---------------------------------------------------
with Raw(srv.host, srv.port) as c:
    c.cmd("EHLO client.test")
    code, text = c.cmd(b"MAIL FROM:<a\x00b@remote.example>")
    t.ok(500 <= code < 600, "NUL in MAIL FROM: 5xx", (code, text))
    code, text = c.cmd(b"NO\x00OP")
    t.ok(500 <= code < 600, "NUL in a command: 5xx", (code, text))
    try:
        r = c.cmd("NOOP")
        t.eq(r[0], 250, "session usable after NUL commands")
    except (EOFError, OSError) as e:
        t.ok(False, "session usable after NUL commands", e)

# ---- NUL in DATA --------------------------------------------------------------
mid = "<t07-nul-data-%d@test.example>" % pid
with Raw(srv.host, srv.port) as c:
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<s@remote.example>")
    c.cmd("RCPT TO:<alice@example.test>")
    c.cmd("DATA")
    c.send(b"Message-ID: " + mid.encode() + b"\r\n\r\nnul \x00 here\r\n.\r\n")
    code, text = c.reply()
    t.ok(code == 250 or code in (550, 554), "NUL in content: 250 or 5xx, nothing else", (code, text))
    if code == 250:
        got = wait_until(lambda: delivered_with_id(srv, mid), 10) or []
        t.eq(len(got), 1, "NUL in content: delivered once after 250")
    else:
        time.sleep(0.3)
        t.eq(delivered_with_id(srv, mid), [], "NUL in content: not delivered after %d" % code)

# ---- over-long command line -------------------------------------------------------
with Raw(srv.host, srv.port) as c:
    c.cmd("EHLO client.test")
    code, text = c.cmd("MAIL FROM:<" + "a" * 5000 + "@remote.example>")
    t.ok(code == 500 and text.startswith("5.5.2"), "5,000-byte command line: 500 5.5.2", (code, text[:80]))
    try:
        t.eq(c.cmd("NOOP")[0], 250, "session usable after an over-long line")
    except (EOFError, OSError) as e:
        t.ok(False, "session usable after an over-long line", e)
with Raw(srv.host, srv.port) as c:
    c.cmd("EHLO client.test")
    c.send(b"NOOP " + b"x" * 200000 + b"\r\n")
    try:
        code, text = c.reply()
        t.ok(code in (500, 421), "200 KB line: 500 or 421", (code, text[:80]))
    except (EOFError, OSError) as e:
        t.ok(False, "200 KB line: 500 or 421", e)
t.ok(alive(srv), "server up after over-long lines")

# ---- binary junk ------------------------------------------------------------------------
rnd = random.Random(7)
for i in range(3):
    junk = bytes(rnd.getrandbits(8) for _ in range(65536))
    try:
        with Raw(srv.host, srv.port) as c:
            c.sock.settimeout(10)
            try:
                c.send(junk)
                c.closed_by_peer(3)
            except OSError:
                pass
    except (OSError, EOFError):
        pass
t.ok(alive(srv), "server up after 3 x 64 KB of binary junk")

# ---- 10,000 RCPTs --------------------------------------------------------------------------
def rss_kb(p):
    try:
        with open("/proc/%d/status" % p) as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    except Exception:
        return 0

rss0 = rss_kb(srv.proc.pid)
with Raw(srv.host, srv.port, timeout=60) as c:
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<s@remote.example>")
    N = 10000
    def writer():
        try:
            for i in range(0, N, 500):
                c.send(b"".join(b"RCPT TO:<alice+%d@example.test>\r\n" % j for j in range(i, i + 500)))
        except OSError:
            pass
    th = threading.Thread(target=writer, daemon=True)
    t0 = time.monotonic()
    th.start()
    cs = []
    closed = False
    try:
        while len(cs) < N:
            code, _ = c.reply()
            cs.append(code)
            if code == 421:
                closed = True
                break
    except (EOFError, OSError):
        closed = True
    secs = time.monotonic() - t0
    th.join(30)
t.eq(cs[:100], [250] * 100, "10,000 RCPTs: the first 100 accepted")
after = cs[100:]
t.ok(after and all(x == 452 for x in after if x != 421),
     "10,000 RCPTs: every one beyond max_recipients gets 452 (or 421 close); got %d replies" % len(cs),
     sorted(set(after)))
t.ok(len(cs) == N or closed, "10,000 RCPTs: all answered, or the session closed with 421")
t.ok(secs < 60, "10,000 RCPTs answered within 60 s (%.1fs)" % secs)
rss1 = rss_kb(srv.proc.pid)
t.ok(rss1 - rss0 < 64 * 1024, "RSS grew by less than 64 MB (%d KB -> %d KB)" % (rss0, rss1))
t.ok(alive(srv), "server up after 10,000 RCPTs")

# ---- client vanishes mid-DATA -----------------------------------------------------------------
for how in ("close", "reset"):
    mid = "<t07-vanish-%s-%d@test.example>" % (how, pid)
    c = Raw(srv.host, srv.port)
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<s@remote.example>")
    c.cmd("RCPT TO:<alice@example.test>")
    c.cmd("DATA")
    c.send(b"Message-ID: " + mid.encode() + b"\r\n\r\n" + b"partial line\r\n" * 5000 + b"no end")
    if how == "reset":
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    time.sleep(1.5)
    t.eq(delivered_with_id(srv, mid), [], "client %s mid-DATA: nothing delivered" % how)
    def leftovers():
        out = srv.tmp_files()
        out += srv.spool_tmp_files()
        for p in srv.spool_files():
            try:
                if mid.encode() in open(p, "rb").read():
                    out.append(p)
            except OSError:
                pass
        return out
    t.eq(wait_until(lambda: not leftovers(), 5) and [] or leftovers(), [],
         "client %s mid-DATA: nothing left in spool or Maildir tmp/" % how)

t.ok(alive(srv) and alive(norm), "both servers still up at the end")
t.eq(srv.stop(15), 0, "SIGTERM: reject tern exits 0")
t.eq(norm.stop(15), 0, "SIGTERM: normalize tern exits 0")
t.ok(srv.sanitizer_report() is None and norm.sanitizer_report() is None, "no sanitizer report",
     (srv.sanitizer_report(), norm.sanitizer_report()))
t.done()
PYEOF
