#!/usr/bin/env bash
# t32_sendmail: local submission the way cron, PHP and git send-email do
# it.  `sendmail -t` from a shell script (To, Cc and Bcc recipients; Bcc
# removed), recipients as arguments, -f, -F, -i/-oi and the lone-dot end,
# LF input stored as CRLF and delivered intact, missing From/Date/
# Message-ID added, the trace header naming the uid, a bare name
# qualified with the hostname, an unknown local user refused (exit 67,
# nothing delivered), the binary called as `sendmail` (argv[0], -C,
# -bp), a non-root user through submit.sock while control.sock refuses
# it, submit.sock refusing operator verbs, and exit 75 with a clear
# message when the server is down.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern

"$PY" - <<'PYEOF'
import json, os, pwd, socket, subprocess, time
from tern import Tap, Tern, header, wait_until, run

t = Tap()
srv = Tern(32, "sm")
srv.domain("example.test", users=["alice", "bob", "carol", "dave"])
if not t.ok(srv.start(), "tern starts"):
    t.done()
T = os.environ["TERN_BIN"]
D = os.environ["TERN_TEST_DIR"]

def sendmail(args, data, argv0=None, user=None):
    argv = [argv0 or T] + ([] if argv0 else ["sendmail"]) + args
    if user:
        pw = pwd.getpwnam(user)
        argv = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid, "--clear-groups", "--"] + argv
    return run(argv, input=data)

def box(user, subject):
    return [m for m in srv.read_messages("example.test", user) if header(m, "Subject") == subject]

# ---- sendmail -t from a shell script ---------------------------------------
script = os.path.join(D, "cronjob.sh")
with open(script, "w") as f:
    f.write("""#!/bin/sh
"$1" sendmail -t -i -C "$2" <<'MSG'
From: Cron Daemon <root@example.test>
To: bob@example.test, "Carol, C." <carol@example.test>
Cc: (a comment) dave@example.test
Bcc: alice@example.test
Subject: t32 cron

Output of the nightly job.
.
A line with a single dot above stays, thanks to -i.
MSG
""")
os.chmod(script, 0o755)
r = subprocess.run([script, T, srv.conf], capture_output=True)
t.eq(r.returncode, 0, "sendmail -t from a script: exit 0", r.stderr)
for u in ("bob", "carol", "dave", "alice"):
    t.ok(wait_until(lambda: box(u, "t32 cron"), 10), "-t: %s gets the message" % u)
msgs = box("bob", "t32 cron") + box("alice", "t32 cron")
t.ok(msgs and all(header(m, "Bcc") is None for m in msgs), "-t: the Bcc field is removed from every copy")
m = msgs[0] if msgs else b""
t.ok(b"\n.\nA line with a single dot" in m, "-i: a lone dot does not end the message", m[-200:])
t.ok(header(m, "Date") and header(m, "Message-ID"), "missing Date and Message-ID are added", m[:600])
t.eq(header(m, "From"), "Cron Daemon <root@example.test>", "an existing From is kept")
t.ok(b"(tern, from userid 0)" in m, "the trace header names the submitting uid", m[:300])
t.eq(header(m, "Return-Path"), "<root@" + srv.hostname + ">", "default sender: login@hostname")

# ---- arguments, -f, -F, the lone dot, LF ------------------------------------
data = b"Subject: t32 args\n\nfirst line\n.\nafter the dot\n"
rc, out, err = sendmail(["-f", "alice@example.test", "-F", "Alice \"A\" Liddell", "-C", srv.conf, "bob@example.test"], data)
t.eq(rc, 0, "recipients as arguments, -f, -F: exit 0", err)
m = (wait_until(lambda: box("bob", "t32 args"), 10) or [b""])[0]
t.eq(header(m, "Return-Path"), "<alice@example.test>", "-f sets the envelope sender")
t.eq(header(m, "From"), "\"Alice A Liddell\" <alice@example.test>", "-F: a From with the full name is added")
t.ok(b"first line\n" in m and b"after the dot" not in m, "without -i a lone dot ends the message")
rc, out, err = sendmail(["-oi", "-fbob@example.test", "-C", srv.conf, "carol@example.test"],
                        b"Subject: t32 oi\r\n\r\ncrlf line\r\n.\r\nkept\r\n")
t.eq(rc, 0, "-oi and -fADDR: exit 0", err)
m = (wait_until(lambda: box("carol", "t32 oi"), 10) or [b""])[0]
t.ok(b"crlf line\n.\nkept\n" in m and b"\r" not in m, "CRLF input: delivered with LF lines, dot kept", m[-100:])

# ---- a bare name, unknown users ---------------------------------------------
rc, out, err = sendmail(["-C", srv.conf, "someone"], b"Subject: t32 bare\n\nx\n")
t.eq(rc, 0, "a bare name: exit 0", err)
rc, out, err = run([T, "queue", "list", "--json", "-c", srv.conf])
q = json.loads(out) if rc == 0 else []
t.ok(any(r["address"] == "someone@" + srv.hostname for m in q for r in m["recipients"]),
     "a bare name is qualified with the hostname", q)
before = sum(len(srv.read_messages("example.test", u)) for u in ("alice", "bob", "carol", "dave"))
rc, out, err = sendmail(["-C", srv.conf, "bob@example.test", "nosuch@example.test"], b"Subject: t32 unknown\n\nx\n")
t.ok(rc == 67 and "nosuch@example.test" in err, "an unknown local user: exit 67, the address named", (rc, err))
rc, out, err = sendmail(["-t", "-C", srv.conf], b"To: bob@example.test, <broken\nSubject: x\n\nx\n")
t.ok(rc not in (0, 75) and "To, Cc or Bcc" in err, "-t with a broken To field: refused", (rc, err))
rc, out, err = sendmail(["-C", srv.conf], b"Subject: x\n\nx\n")
t.eq(rc, 64, "no recipients: exit 64 (EX_USAGE)", err)
rc, out, err = sendmail(["-bs", "-C", srv.conf], b"")
t.eq(rc, 64, "-bs is not supported: exit 64", err)
time.sleep(1.0)
after = sum(len(srv.read_messages("example.test", u)) for u in ("alice", "bob", "carol", "dave"))
t.eq(after, before, "nothing delivered from the refused submissions")

# ---- called as sendmail -------------------------------------------------------
link = os.path.join(D, "sendmail")
os.symlink(T, link)
rc, out, err = sendmail(["-C", srv.conf, "dave@example.test"], b"Subject: t32 argv0\n\nvia the link\n", argv0=link)
t.eq(rc, 0, "argv[0] = sendmail, -C FILE: exit 0", err)
t.ok(wait_until(lambda: box("dave", "t32 argv0"), 10), "... delivered")
r = subprocess.run([link, "dave@example.test"], input=b"Subject: t32 env\n\nvia TERN_CONFIG\n",
                   capture_output=True, env=dict(os.environ, TERN_CONFIG=srv.conf))
t.eq(r.returncode, 0, "called as sendmail without -C: $TERN_CONFIG names the config", r.stderr)
t.ok(wait_until(lambda: box("dave", "t32 env"), 10), "... delivered")
rc, out, err = run([link, "-bp", "-C", srv.conf])
t.ok(rc == 0 and ("Request" in out or "Mail queue is empty" in out), "sendmail -bp lists the queue", (rc, out, err))

# ---- another local user -------------------------------------------------------
if os.getuid() == 0:
    os.chmod(D, 0o755)
    os.chmod(srv.dir, 0o755)
    os.chmod(srv.conf, 0o644)
    for p in (srv.dir + "/example.test.users",):
        os.chmod(p, 0o644)
    rc, out, err = sendmail(["-C", srv.conf, "bob@example.test"], b"Subject: t32 nobody\n\nfrom nobody\n", user="nobody")
    t.eq(rc, 0, "user nobody submits through submit.sock: exit 0", err)
    m = (wait_until(lambda: box("bob", "t32 nobody"), 10) or [b""])[0]
    t.ok(b"from userid %d)" % pwd.getpwnam("nobody").pw_uid in m, "the trace header names nobody's uid", m[:300])
    rc, out, err = run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
                        T, "queue", "list", "-c", srv.conf])
    t.ok(rc == 77 and "permission denied" in err, "nobody may not use control.sock: exit 77 (EX_NOPERM)", (rc, err))
else:
    t.skip("non-root user through submit.sock", "needs root to switch users")

s = socket.socket(socket.AF_UNIX)
s.connect(os.path.join(srv.spool, "submit.sock"))
s.sendall(b"list\n")
s.shutdown(socket.SHUT_WR)
ans = s.recv(4096)
s.close()
t.ok(ans.startswith(b"perm ") and b"only submit" in ans, "submit.sock refuses operator verbs", ans)

# ---- raw requests on submit.sock ---------------------------------------------
def raw_submit(body, rcpt="bob@example.test"):
    s = socket.socket(socket.AF_UNIX)
    s.connect(os.path.join(srv.spool, "submit.sock"))
    s.sendall(b"submit\nfrom alice@example.test\nrcpt %s\ndata %d\n" % (rcpt.encode(), len(body)) + body)
    s.shutdown(socket.SHUT_WR)
    ans = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        ans += d
    s.close()
    return ans

ans = raw_submit(b"Subject: t32 bare cr\r\n\r\nline\r.\rmore\r\n")
t.ok(ans.startswith(b"ok queued as"), "a raw submit with bare CRs is taken", ans)
m = (wait_until(lambda: box("bob", "t32 bare cr"), 10) or [b""])[0]
t.ok(b"line\n.\nmore\n" in m and b"\r" not in m, "bare CRs are stored as line ends (no <CR>.<CR> survives)", m[-60:])
ans = raw_submit(b"Subject: t32 nul\r\n\r\na\0b\r\n")
t.ok(ans.startswith(b"perm ") and b"NUL" in ans, "NUL bytes are refused", ans)
ans = raw_submit(b"x" * 10, rcpt="bob@example.test\nrcpt x")
t.ok(ans.startswith(b"usage ") or ans.startswith(b"perm "), "a malformed head is refused", ans)
held = []
for i in range(4):
    c = socket.socket(socket.AF_UNIX)
    c.connect(os.path.join(srv.spool, "submit.sock"))
    held.append(c)
time.sleep(0.3)
c = socket.socket(socket.AF_UNIX)
c.connect(os.path.join(srv.spool, "submit.sock"))
c.settimeout(5)
t.ok(c.recv(4096).startswith(b"temp too many"), "a fifth connection of one uid: 'temp too many control connections'")
c.close()
for c in held:
    c.close()
time.sleep(0.3)
ans = raw_submit(b"Subject: t32 after cap\r\n\r\nx\r\n")
t.ok(ans.startswith(b"ok "), "room again once they close", ans)

# ---- server down ------------------------------------------------------------
t.eq(srv.stop(), 0, "SIGTERM: tern exits 0")
rc, out, err = sendmail(["-C", srv.conf, "bob@example.test"], b"Subject: t32 down\n\nx\n")
t.ok(rc == 75 and "not running" in err, "server down: exit 75 (EX_TEMPFAIL), 'not running'", (rc, err))
t.ok(not srv.sanitizer_report(), "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
