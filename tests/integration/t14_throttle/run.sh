#!/usr/bin/env bash
# t14_throttle: failed logins per client address.  With
# auth_max_failures = 4: wrong passwords from 127.0.0.1 get 535 5.7.8
# after growing delays (0, 1 s, 2 s; counted across sessions), the 4th
# gets 421 4.7.0 and the connection is closed; new AUTH attempts from
# 127.0.0.1 get 421 at once, even with the right password, while EHLO and
# mail on mx still work; a client bound to 127.0.0.2 logs in and has its
# own count; after auth_block_time (8 s) 127.0.0.1 logs in again.  Log
# lines carry ip, user, reason and delay, never the password.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern

"$PY" - <<'PYEOF'
import re, threading, time
from tern import Tap, Raw, sha512_crypt, wait_until
from submission import TernTLS, make_cert, RawTLS, submission, loopback_alias_works

t = Tap()
srv = TernTLS(14, "tern")
cert, key = make_cert(srv.dir, "default", "mx.test.example")
srv.tls(cert, key)
BLOCK = 8
srv.limits(auth_max_failures=4, auth_failure_window="5m", auth_block_time="%ds" % BLOCK)
SUB = srv.listen("sub", 1, "submission")
PW = "Right-Pw-14"
srv.domain("example.test", users=["alice"], passwords={"alice": sha512_crypt(PW)})
if not t.ok(srv.start(), "tern starts"):
    t.done()
if not t.ok(loopback_alias_works("127.0.0.2"), "a socket can bind to 127.0.0.2"):
    t.done()
A = "alice@example.test"

def timed_auth(c, pw):
    t0 = time.monotonic()
    r = c.auth_plain(A, pw)
    return r, time.monotonic() - t0

# ---- failures 1-2 in one session, 3-4 in another ------------------------------
c = RawTLS(SUB, source="127.0.0.1")
r1, d1 = timed_auth(c, "wrong-1")
r2, d2 = timed_auth(c, "wrong-2")
c.close()
c = RawTLS(SUB, source="127.0.0.1")
# While failure 3 waits for its answer, other sessions are served at once.
res = {}
th = threading.Thread(target=lambda: res.update(r=timed_auth(c, "wrong-3")))
th.start()
time.sleep(0.3)
t0 = time.monotonic()
other = RawTLS(SUB, source="127.0.0.3")
other.cmd("NOOP")
other.close()
d_other = time.monotonic() - t0
th.join(30)
r3, d3 = res.get("r", ((0, ""), 0.0))
t.ok(d_other < 0.9 and th.is_alive() is False,
     "a delayed answer does not stall other sessions (TLS+EHLO+NOOP in %.2f s)" % d_other)
t.diag("answer times: %.2f %.2f %.2f s" % (d1, d2, d3))
t.reply(r1, 535, "5.7.8", "failure 1: 535 5.7.8")
t.ok(d1 < 0.9, "failure 1 answered without delay (%.2f s)" % d1)
t.reply(r2, 535, "5.7.8", "failure 2: 535 5.7.8")
t.ok(0.9 <= d2 < 1.9, "failure 2 answered after ~1 s (%.2f s)" % d2)
t.reply(r3, 535, "5.7.8", "failure 3 (new session, same IP): 535 5.7.8")
t.ok(1.9 <= d3 < 3.5, "failure 3 answered after ~2 s (%.2f s)" % d3)
r4, d4 = timed_auth(c, "wrong-4")
t.reply(r4, 421, "4.7.0", "failure 4 reaches auth_max_failures: 421 4.7.0")
t.ok(c.closed_by_peer(5), "tern closes the connection after the 421")
c.close()
blocked_at = time.monotonic()

# ---- blocked: 127.0.0.1 gets 421 at once ----------------------------------------
c = RawTLS(SUB, source="127.0.0.1")
t.eq(c.ehlo_reply[0], 250, "blocked IP: EHLO still answered 250")
r, d = timed_auth(c, PW)
t.reply(r, 421, "4.7.0", "blocked IP: AUTH with the right password gets 421 4.7.0")
t.ok(d < 0.9, "blocked IP: the 421 comes at once (%.2f s)" % d)
t.ok(c.closed_by_peer(5), "blocked IP: connection closed")
c.close()
c = RawTLS(SUB, source="127.0.0.1")
code, text = c.cmd("AUTH LOGIN")
t.ok(code == 421 and text.startswith("4.7.0"), "blocked IP: AUTH LOGIN gets 421 4.7.0", (code, text))
c.close()
with Raw("127.0.0.1", srv.port) as m:
    m.cmd("EHLO client.test")
    t.reply(m.cmd("MAIL FROM:<someone@remote.example>"), 250, "2.1.0", "blocked IP: mx mail still accepted")
    t.reply(m.cmd("RCPT TO:<alice@example.test>"), 250, "2.1.5", "blocked IP: mx RCPT still accepted")

# ---- another address is not blocked --------------------------------------------------
c = RawTLS(SUB, source="127.0.0.2")
r, d = timed_auth(c, "wrong-from-2")
t.reply(r, 535, "5.7.8", "127.0.0.2: a wrong password gets 535, not 421")
t.ok(d < 0.9, "127.0.0.2: its first failure has no delay (own count) (%.2f s)" % d)
c.close()
s = submission(SUB, source="127.0.0.2")
try:
    r = s.login(A, PW)
except Exception as e:
    r = (getattr(e, "smtp_code", -1), repr(e))
t.reply(r, 235, "2.7.0", "127.0.0.2 logs in with smtplib (source_address) while 127.0.0.1 is blocked")
t.reply(s.mail(A), 250, "2.1.0", "127.0.0.2: MAIL after login 250")
s.close()

# ---- log ------------------------------------------------------------------------
log = srv.log()
fails = re.findall(r"smtp auth failed ip=127\.0\.0\.1 user=<alice@example\.test> reason=\"[^\"]*\" delay=(\d+)ms(.*)", log)
t.eq([int(x[0]) for x in fails][:3], [0, 1000, 2000], "log: delays 0, 1000, 2000 ms for failures 1-3", log[-2500:])
t.ok(len(fails) == 4 and "blocked=yes" in fails[3][1], "log: failure 4 says blocked=yes", fails)
t.ok(re.search(r"smtp auth refused ip=127\.0\.0\.1 reason=blocked", log), "log: auth refused ip=127.0.0.1 reason=blocked")
t.ok(re.search(r"smtp auth ok ip=127\.0\.0\.2 user=<alice@example\.test>", log), "log: auth ok from 127.0.0.2")
t.ok(not re.search(r"auth refused ip=127\.0\.0\.2", log), "log: 127.0.0.2 never refused")
t.ok(PW not in log and "wrong-1" not in log and "wrong-from-2" not in log, "log: no password")

# ---- the block ends after auth_block_time -------------------------------------------
def try_login():
    try:
        c = RawTLS(SUB, source="127.0.0.1")
        r = c.auth_plain(A, PW)
        c.close()
        return r[0] == 235
    except (OSError, EOFError, ValueError):
        return False
left = BLOCK - (time.monotonic() - blocked_at)
if left > 2.5:
    time.sleep(left - 2.5)
    t.ok(not try_login(), "127.0.0.1 still blocked shortly before auth_block_time ends")
ok = wait_until(try_login, BLOCK + 10, interval=0.5)
waited = time.monotonic() - blocked_at
t.ok(ok, "127.0.0.1 logs in again after auth_block_time (%.1f s after the block)" % waited)
t.ok(waited >= BLOCK - 1, "... and not before auth_block_time (%.1f s >= %d s)" % (waited, BLOCK))

t.eq(srv.stop(15), 0, "SIGTERM: exit 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
