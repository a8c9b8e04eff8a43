#!/usr/bin/env bash
# t05_dovecot_imap: tern and a private Dovecot share the users file
# ({SHA512-CRYPT} passwd-file) and the Maildirs (mail_location =
# maildir:<mailroot>/%d/%n).  A message sent through tern is fetched with
# imaplib; the bytes after tern's prepended headers are exactly the bytes
# sent.  Dovecot refuses uid 0, so as root tern runs as nobody.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern
require_cmd dovecot doveadm setpriv
on_cleanup '[ -f "$TERN_TEST_DIR/dovecot/run/master.pid" ] && kill "$(cat "$TERN_TEST_DIR/dovecot/run/master.pid")"'

"$PY" - <<'PYEOF'
import imaplib, os, pwd, re, smtplib
from tern import Tap, Tern, sha512_crypt, header, wait_until, split_delivered, message
from dovecot import Dovecot

t = Tap()
user = "nobody" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
pw = pwd.getpwnam(user)
srv = Tern(5, "tern", run_as=user)
srv.domain("example.test", users=["alice", "bob"],
           passwords={"alice": sha512_crypt("alice-secret"), "bob": sha512_crypt("bob-secret")})
if not t.ok(srv.start(), "tern starts (as %s)" % user):
    t.done()
dc = Dovecot(os.path.join(os.environ["TERN_TEST_DIR"], "dovecot"), srv.ports(1),
             srv.mailroot, srv.dir, uid=pw.pw_uid, gid=pw.pw_gid)
try:
    up = dc.start()
except Exception as e:
    up = False
    t.diag(str(e))
if not t.ok(up, "private Dovecot starts on 127.0.0.1:%d" % srv.ports(1)):
    t.done()

mid = "<t05-%d@test.example>" % os.getpid()
body = ("Plain line.\r\n"
        "  indented, trailing space \r\n"
        ".a line starting with a dot\r\n"
        "..two dots\r\n"
        "\r\n"
        "Ünïcödé 8-bit line: こんにちは\r\n"
        + "z" * 990 + "\r\n"
        "\tTab line\r\n"
        "last line\r\n")
data = message("sender@remote.example", "alice@example.test", "imap check",
               body=body, msgid=mid,
               extra="MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: 8bit\r\n")
with smtplib.SMTP(srv.host, srv.port, local_hostname="client.test", timeout=20) as s:
    t.eq(s.sendmail("sender@remote.example", ["alice@example.test"], data), {},
         "tern accepts the message")
t.eq(len(srv.wait_maildir("example.test", "alice", 1)), 1, "message in alice's Maildir")

def imap(u, p):
    im = imaplib.IMAP4("127.0.0.1", dc.port, timeout=20)
    im.login(u, p)
    return im

try:
    im = imap("alice@example.test", "alice-secret")
    t.ok(True, "IMAP login with the password hash from tern's users file")
except Exception as e:
    t.ok(False, "IMAP login with the password hash from tern's users file", "%r\n%s" % (e, dc.log()[-1500:]))
    dc.stop()
    t.done()

typ, d = im.select("INBOX", readonly=True)
t.eq((typ, d[0]), ("OK", b"1"), "INBOX holds exactly one message")
typ, d = im.search(None, "HEADER", "Message-ID", mid)
t.eq(d[0], b"1", "IMAP SEARCH finds the Message-ID")
typ, d = im.fetch("1", "(BODY.PEEK[])")
full = d[0][1] if typ == "OK" and d and isinstance(d[0], tuple) else b""
head, rest = split_delivered(full)
t.ok(head.startswith(b"Return-Path: <sender@remote.example>\r\n"),
     "IMAP: message starts with Return-Path", head[:200])
t.ok(re.search(rb"(?m)^Received: ", head), "IMAP: tern's Received header present", head)
t.eq(rest, data, "IMAP: message after tern's headers is byte-for-byte what was sent")
typ, d = im.fetch("1", "(BODY.PEEK[TEXT])")
t.eq(d[0][1] if typ == "OK" else None, body.encode("utf-8"), "IMAP: BODY[TEXT] is exactly the body sent")
typ, d = im.fetch("1", "(RFC822.SIZE)")
t.ok(typ == "OK" and int(re.search(rb"RFC822.SIZE (\d+)", d[0]).group(1)) == len(full),
     "IMAP: RFC822.SIZE matches the fetched size", d)
im.logout()

try:
    imap("alice@example.test", "wrong")
    t.ok(False, "IMAP login with a wrong password is refused")
except imaplib.IMAP4.error:
    t.ok(True, "IMAP login with a wrong password is refused")

im = imap("bob@example.test", "bob-secret")
typ, d = im.select("INBOX", readonly=True)
t.eq(d[0], b"0", "bob's INBOX is empty (no cross-delivery)")
im.logout()

dc.stop()
t.ok(not dc.master_pid() or not os.path.exists("/proc/%d" % dc.master_pid()), "Dovecot stopped")
t.eq(srv.stop(15), 0, "SIGTERM: tern exits 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
