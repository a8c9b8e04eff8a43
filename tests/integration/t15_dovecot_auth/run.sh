#!/usr/bin/env bash
# t15_dovecot_auth: one users file for tern's SMTP AUTH and a private
# Dovecot's IMAP LOGIN.  Users are created and changed only with `tern
# user add/passwd --password-stdin` (before the start and while tern runs);
# Dovecot (passdb passwd-file, scheme SHA512-CRYPT) accepts the same
# passwords, refuses the old one after passwd, and shows the message sent
# through tern's submission port (STARTTLS + AUTH) over IMAP.  As root,
# tern and `tern user` run as nobody (Dovecot refuses uid 0).
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern
require_cmd dovecot doveadm setpriv
on_cleanup '[ -f "$TERN_TEST_DIR/dovecot/run/master.pid" ] && kill "$(cat "$TERN_TEST_DIR/dovecot/run/master.pid")"'

"$PY" - <<'PYEOF'
import imaplib, os, pwd, re, smtplib
from tern import Tap, header, message, wait_until, run
from submission import TernTLS, make_cert, submission
from dovecot import Dovecot

t = Tap()
user = "nobody" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
pw = pwd.getpwnam(user)
srv = TernTLS(15, "tern", run_as=user)
cert, key = make_cert(srv.dir, "default", "mx.test.example")
srv.tls(cert, key)
SUB = srv.listen("sub", 2, "submission")
USERS = srv.domain("example.test", users=[])
srv.write_config()

def tern_user(*args, stdin=None, as_tern=True):
    """tern user ARGS; once tern runs, as the user tern runs as, who owns
    the users file (start() hands the directory to that user)."""
    argv = [srv.bin, "user"] + list(args) + ["-c", srv.conf]
    if as_tern and os.getuid() == 0:
        argv = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                "--clear-groups", "--"] + argv
    return run(argv, input=stdin)

rc, out, err = tern_user("add", "example.test", "alice", "--password-stdin", stdin=b"Alice-Imap-15\n",
                        as_tern=False)
t.eq(rc, 0, "tern user add alice --password-stdin: exit 0", err)
line = open(USERS).read()
t.ok(re.search(r"(?m)^alice:\{SHA512-CRYPT\}\$6\$[^:\s]+$", line), "users file: alice:{SHA512-CRYPT}$6$...", line)
if not t.ok(srv.start(write=False), "tern starts (as %s)" % user):
    t.done()
dc = Dovecot(os.path.join(os.environ["TERN_TEST_DIR"], "dovecot"), srv.ports(1),
             srv.mailroot, srv.dir, uid=pw.pw_uid, gid=pw.pw_gid)
try:
    up = dc.start()
except Exception as e:
    up = False
    t.diag(str(e))
if not t.ok(up, "private Dovecot starts on 127.0.0.1:%d with tern's users file" % srv.ports(1)):
    t.done()

def imap_login(u, p):
    try:
        im = imaplib.IMAP4("127.0.0.1", dc.port, timeout=20)
        im.login(u, p)
        return im
    except imaplib.IMAP4.error as e:
        return None

def smtp_login(u, p):
    s = submission(SUB)
    try:
        return s, s.login(u, p)
    except smtplib.SMTPAuthenticationError as e:
        s.close()
        return None, (e.smtp_code, e.smtp_error)

im = imap_login("alice@example.test", "Alice-Imap-15")
if not t.ok(im is not None, "Dovecot IMAP LOGIN with the password given to `tern user add`", dc.log()[-1500:]):
    dc.stop()
    t.done()
im.logout()
t.ok(imap_login("alice@example.test", "not-the-password") is None, "Dovecot refuses a wrong password")
s, r = smtp_login("alice@example.test", "Alice-Imap-15")
t.reply(r, 235, "2.7.0", "tern AUTH with the same password: 235")
if s:
    s.close()

# ---- a user added while tern runs: both servers see it --------------------------
rc, out, err = tern_user("add", "example.test", "bob", "--password-stdin", stdin=b"Bob-Imap-15\n")
t.eq(rc, 0, "tern user add bob while running: exit 0", err)
s, r = smtp_login("bob@example.test", "Bob-Imap-15")
t.reply(r, 235, "2.7.0", "bob logs in to tern's submission port (no restart)")
mid = "<t15-%d@test.example>" % os.getpid()
body = "Sent through submission, read over IMAP.\r\n"
data = message("bob@example.test", "alice@example.test", "dovecot auth", body=body, msgid=mid)
if s:
    t.eq(s.sendmail("bob@example.test", ["alice@example.test"], data), {}, "bob -> alice accepted")
    s.quit()
t.eq(len(srv.wait_maildir("example.test", "alice", 1)), 1, "message in alice's Maildir")
im = imap_login("alice@example.test", "Alice-Imap-15")
typ, d = im.select("INBOX", readonly=True)
t.eq((typ, d[0]), ("OK", b"1"), "IMAP: alice's INBOX holds one message")
typ, d = im.search(None, "HEADER", "Message-ID", mid)
t.eq(d[0], b"1", "IMAP SEARCH finds the Message-ID sent through submission")
typ, d = im.fetch("1", "(BODY.PEEK[])")
full = d[0][1] if typ == "OK" and isinstance(d[0], tuple) else b""
t.ok(re.search(rb"(?m)^Received: .*\r?\n(\s.*\r?\n)*", full) and b"with ESMTPSA" in full,
     "IMAP: Received header says ESMTPSA", full[:600])
t.ok(full.endswith(body.encode()), "IMAP: body intact", full[-200:])
im.logout()
im = imap_login("bob@example.test", "Bob-Imap-15")
t.ok(im is not None, "Dovecot: IMAP LOGIN for bob, added while tern runs")
if im:
    im.logout()

# ---- passwd: the old password fails in both ---------------------------------------
# Dovecot's passwd-file reloads when mtime (whole seconds) or size change;
# a new hash has the same size, so let the clock pass the file's second.
import time
wait_until(lambda: int(time.time()) > int(os.stat(USERS).st_mtime), 3)
rc, out, err = tern_user("passwd", "example.test", "alice", "--password-stdin", stdin=b"Alice-New-15\n")
t.eq(rc, 0, "tern user passwd alice: exit 0", err)
# and Dovecot stats the file at most once a second: ask in a later second
wait_until(lambda: int(time.time()) > int(os.stat(USERS).st_mtime), 3)
t.ok(imap_login("alice@example.test", "Alice-New-15") is not None, "Dovecot accepts alice's new password")
t.ok(imap_login("alice@example.test", "Alice-Imap-15") is None, "Dovecot refuses alice's old password")
s, r = smtp_login("alice@example.test", "Alice-New-15")
t.reply(r, 235, "2.7.0", "tern accepts alice's new password")
if s:
    s.close()
s, r = smtp_login("alice@example.test", "Alice-Imap-15")
t.reply(r, 535, "5.7.8", "tern refuses alice's old password")

# ---- the hash tern writes verifies with doveadm too --------------------------------
h = re.search(r"(?m)^alice:(\{SHA512-CRYPT\}\S+)$", open(USERS).read())
if h:
    rc, out, err = run(["doveadm", "pw", "-t", h.group(1), "-p", "Alice-New-15"])
    t.ok(rc == 0 and "verified" in out + err, "doveadm pw -t verifies tern's hash", out + err)
else:
    t.ok(False, "doveadm pw -t verifies tern's hash", open(USERS).read())

dc.stop()
t.ok(not dc.master_pid() or not os.path.exists("/proc/%d" % dc.master_pid()), "Dovecot stopped")
t.eq(srv.stop(15), 0, "SIGTERM: tern exits 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
