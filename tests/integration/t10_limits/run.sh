#!/usr/bin/env bash
# t10_limits: max_sessions_per_ip (the excess connection gets 421 and is
# closed; a slot frees when a client leaves), command_timeout (421 4.4.2
# and disconnect), data_timeout (same, nothing delivered), max_errors
# (421 after too many bad commands).
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern

"$PY" - <<'PYEOF'
import os, time
from tern import Tap, Tern, Raw, wait_until

t = Tap()
srv = Tern(10, "limits", max_sessions_per_ip=3, command_timeout="2s", data_timeout="2s",
           max_errors=5)
srv.domain("example.test", users=["alice"])
if not t.ok(srv.start(), "tern starts"):
    t.done()

# ---- max_sessions_per_ip ------------------------------------------------------
held = [Raw(srv.host, srv.port) for _ in range(3)]
t.eq([c.greeting[0] for c in held], [220, 220, 220], "3 sessions (the limit) get 220")
extra = Raw(srv.host, srv.port, greet=False)
try:
    code, text = extra.reply()
except (EOFError, OSError) as e:
    code, text = None, repr(e)
t.ok(code == 421 and text.startswith("4."), "4th session from the same IP: 421 4.x.x", (code, text))
t.ok(extra.closed_by_peer(5), "4th session closed by the server")
extra.close()
held[0].cmd("QUIT")
held[0].close()
def fresh_ok():
    try:
        with Raw(srv.host, srv.port) as c:
            return c.greeting[0] == 220
    except (EOFError, OSError, ValueError):
        return False
t.ok(wait_until(fresh_ok, 5), "after one leaves, a new session gets 220")
for c in held[1:]:
    c.close()
time.sleep(0.3)

# ---- command_timeout ---------------------------------------------------------------
with Raw(srv.host, srv.port, timeout=20) as c:
    c.cmd("EHLO client.test")
    t0 = time.monotonic()
    try:
        code, text = c.reply()
    except (EOFError, OSError) as e:
        code, text = None, repr(e)
    secs = time.monotonic() - t0
    t.ok(code == 421 and text.startswith("4.4.2"), "idle session: 421 4.4.2", (code, text))
    t.ok(1.5 <= secs <= 10, "command timeout after about 2 s (%.1fs)" % secs)
    t.ok(c.closed_by_peer(5), "timed-out session closed")
time.sleep(0.3)

# ---- data_timeout ------------------------------------------------------------------------
mid = "<t10-data-timeout-%d@test.example>" % os.getpid()
with Raw(srv.host, srv.port, timeout=20) as c:
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<s@remote.example>")
    c.cmd("RCPT TO:<alice@example.test>")
    t.eq(c.cmd("DATA")[0], 354, "DATA 354")
    c.send(b"Message-ID: " + mid.encode() + b"\r\n\r\nstalled")
    t0 = time.monotonic()
    try:
        code, text = c.reply()
    except (EOFError, OSError) as e:
        code, text = None, repr(e)
    secs = time.monotonic() - t0
    t.ok(code == 421 and text.startswith("4.4.2"), "stalled DATA: 421 4.4.2", (code, text))
    t.ok(1.5 <= secs <= 10, "data timeout after about 2 s (%.1fs)" % secs)
time.sleep(0.5)
t.eq(srv.maildir_files("example.test", "alice"), [], "stalled message not delivered")
t.eq(srv.tmp_files(), [], "nothing left in Maildir tmp/")

# ---- max_errors -------------------------------------------------------------------------------
with Raw(srv.host, srv.port, timeout=20) as c:
    c.cmd("EHLO client.test")
    cs = []
    try:
        for i in range(12):
            code, _ = c.cmd("BOGUS%d" % i)
            cs.append(code)
            if code == 421:
                break
    except (EOFError, OSError):
        cs.append("closed")
    t.ok(421 in cs and cs.index(421) <= 6, "421 after max_errors (5) bad commands", cs)
    t.ok(c.closed_by_peer(5), "session closed after too many errors")

t.ok(fresh_ok(), "server still accepts sessions")
t.eq(srv.stop(15), 0, "SIGTERM: exit 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
