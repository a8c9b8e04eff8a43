#!/usr/bin/env bash
# t13_auth: SMTP AUTH on submission over STARTTLS.  PLAIN (with and
# without initial response) and LOGIN, right and wrong credentials (535
# 5.7.8), "*" cancels (501 5.0.0), malformed base64 (501 5.5.2), AUTH
# before TLS (538 5.7.11), MAIL before AUTH (530 5.7.0), one AUTH per
# session; sender ownership (own address, +tag, an alias expanding to the
# user, case; someone else's or another domain's address 553 5.7.1);
# relay to a remote domain after AUTH: kept in the spool and logged, the
# local copy delivered; user_messages_per_hour (451 4.7.1, logged with the
# user); `tern user passwd/add/del` on the running server's users file;
# no password in the log.  Each failed login comes from its own 127.0.0.x
# source address so that the failure throttle (t14) adds no delay.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern

"$PY" - <<'PYEOF'
import os, re, smtplib, time
from tern import Tap, sha512_crypt, header, message, wait_until, run
from submission import TernTLS, make_cert, RawTLS, Raw, submission, plain_token, b64, remote_waits_re

t = Tap()
srv = TernTLS(13, "tern")
cert, key = make_cert(srv.dir, "default", "mx.test.example")
srv.tls(cert, key)
srv.limits(user_messages_per_hour=3, auth_max_failures=100)
SUB = srv.listen("sub", 1, "submission")
PW = {"alice": "Alice-Pw-13!", "bob": "Bob-Pw-13", "carol": "Carol-Pw-13",
      "dave": "Dave-Pw-13", "erin": "Erin-Old-Pw-13"}
USERS = srv.domain("example.test", users=list(PW) + ["mailonly"],
                   passwords={u: sha512_crypt(p) for u, p in PW.items()},
                   aliases={"info": ["alice"], "sales": ["alice", "bob"], "support": ["bob"]})
srv.domain("other.test", users=["zed"])
srv.hold_outbound()   # remote recipients stay queued: no DNS, no network
if not t.ok(srv.start(), "tern starts"):
    t.done()
A = "alice@example.test"
WRONG = ["Wrong-Pw-13-%d" % i for i in range(10)]
ips = iter("127.0.0.%d" % i for i in range(10, 250))

def tls(user=None, source=None):
    """RawTLS on submission, logged in as user (from a fresh source address)."""
    c = RawTLS(SUB, source=source or next(ips))
    if user:
        r = c.auth_plain(user + "@example.test", PW[user])
        if r[0] != 235:
            raise RuntimeError("login %s: %r" % (user, r))
    return c

# ---- login before TLS, MAIL before AUTH ----------------------------------------
with Raw("127.0.0.1", SUB) as c:
    c.cmd("EHLO client.test")
    t.reply(c.cmd("AUTH PLAIN " + plain_token(A, PW["alice"])), 538, "5.7.11", "AUTH PLAIN before TLS: 538 5.7.11")
    t.reply(c.cmd("AUTH LOGIN"), 538, "5.7.11", "AUTH LOGIN before TLS: 538 5.7.11")
    t.reply(c.cmd("MAIL FROM:<%s>" % A), 530, "5.7.0", "MAIL before TLS on submission: 530 5.7.0")
c = tls()
t.reply(c.cmd("MAIL FROM:<%s>" % A), 530, "5.7.0", "MAIL after TLS, before AUTH: 530 5.7.0")
t.reply(c.cmd("RCPT TO:<bob@example.test>"), 503, None, "RCPT without MAIL: 503")
c.close()

# ---- PLAIN / LOGIN right -------------------------------------------------------
c = tls()
t.reply(c.auth_plain(A, PW["alice"]), 235, "2.7.0", "AUTH PLAIN with initial response: 235 2.7.0")
t.reply(c.auth_plain(A, PW["alice"]), 503, "5.5.1", "second AUTH in a session: 503 5.5.1")
c.close()
c = tls()
t.eq(c.cmd("AUTH PLAIN")[0], 334, "AUTH PLAIN without initial response: 334")
t.reply(c.cmd(plain_token(A, PW["alice"])), 235, "2.7.0", "PLAIN token after 334: 235")
c.close()
c = tls()
code, text = c.cmd("AUTH LOGIN")
t.ok(code == 334 and text.strip() == b64("Username:"), "AUTH LOGIN: 334 VXNlcm5hbWU6", (code, text))
code, text = c.cmd(b64(A))
t.ok(code == 334 and text.strip() == b64("Password:"), "LOGIN user: 334 UGFzc3dvcmQ6", (code, text))
t.reply(c.cmd(b64(PW["alice"])), 235, "2.7.0", "LOGIN password: 235 2.7.0")
c.close()
c = tls()
t.eq(c.cmd("AUTH LOGIN " + b64(A))[0], 334, "AUTH LOGIN with the user as initial response: 334")
t.reply(c.cmd(b64(PW["alice"])), 235, "2.7.0", "... password: 235")
c.close()
c = tls()
t.reply(c.auth_plain("ALICE@Example.TEST", PW["alice"]), 235, "2.7.0", "login name is case-insensitive")
c.close()
for mech in ("PLAIN", "LOGIN"):
    s = submission(SUB, source=next(ips))
    try:
        s.user, s.password = A, PW["alice"]
        r = s.auth(mech, getattr(s, "auth_" + mech.lower()), initial_response_ok=True)
    except smtplib.SMTPException as e:
        r = (getattr(e, "smtp_code", -1), str(e))
    t.reply(r, 235, "2.7.0", "smtplib auth %s: 235" % mech)
    s.close()

# ---- wrong credentials ------------------------------------------------------------
cases = [("PLAIN wrong password", "plain", A, WRONG[0]),
         ("LOGIN wrong password", "login", A, WRONG[1]),
         ("unknown user", "plain", "nosuch@example.test", WRONG[2]),
         ("user in another served domain", "plain", "alice@other.test", PW["alice"]),
         ("unserved domain", "plain", "alice@remote.example", PW["alice"]),
         ("login without a domain", "plain", "alice", PW["alice"]),
         ("user without a password (mailbox only)", "plain", "mailonly@example.test", WRONG[4]),
         ("another user's password", "plain", A, PW["bob"])]
for desc, how, user, pw in cases:
    c = tls()
    if how == "plain":
        r = c.auth_plain(user, pw)
    else:
        c.cmd("AUTH LOGIN")
        c.cmd(b64(user))
        r = c.cmd(b64(pw))
    t.reply(r, 535, "5.7.8", "%s: 535 5.7.8" % desc)
    t.reply(c.cmd("MAIL FROM:<%s>" % A), 530, "5.7.0", "%s: still unauthenticated (530)" % desc)
    c.close()
# authorization identity (RFC 4616 authzid): logging in as alice must not act as bob
c = tls()
r = c.cmd("AUTH PLAIN " + plain_token(A, PW["alice"], authzid="bob@example.test"))
t.ok(r[0] in (535, 501) or r[0] >= 500, "PLAIN with authzid bob and alice's credentials: refused", r)
t.reply(c.cmd("MAIL FROM:<bob@example.test>"), 530, "5.7.0", "... and the session is not bob's (530)")
c.close()
c = tls()
t.reply(c.cmd("AUTH PLAIN " + plain_token(A, PW["alice"], authzid=A)), 235, "2.7.0",
        "PLAIN with authzid equal to the login: 235")
c.close()
c = tls()
r = c.cmd("AUTH PLAIN " + "QUFB" * 5000)
t.ok(r[0] in (500, 501) and r[1].startswith("5.5."), "AUTH PLAIN with a 20,000-byte response: 500/501 5.5.x", r)
t.reply(c.cmd("NOOP"), 250, None, "session usable after the oversized response")
c.close()
c = tls()
c.auth_plain(A, WRONG[3])
t.reply(c.auth_plain(A, PW["alice"]), 235, "2.7.0", "a failed AUTH does not use up the session's AUTH")
c.close()

# ---- cancel, malformed ---------------------------------------------------------
c = tls()
c.cmd("AUTH LOGIN")
t.reply(c.cmd("*"), 501, "5.0.0", "AUTH LOGIN, '*' at the user prompt: 501 5.0.0")
c.cmd("AUTH LOGIN")
c.cmd(b64(A))
t.reply(c.cmd("*"), 501, "5.0.0", "AUTH LOGIN, '*' at the password prompt: 501 5.0.0")
c.cmd("AUTH PLAIN")
t.reply(c.cmd("*"), 501, "5.0.0", "AUTH PLAIN, '*' after 334: 501 5.0.0")
t.reply(c.cmd("NOOP"), 250, None, "session usable after cancel")
c.cmd("AUTH PLAIN")
t.reply(c.cmd("!!not-base64!!"), 501, "5.5.2", "AUTH PLAIN, malformed base64 response: 501 5.5.2")
c.cmd("AUTH LOGIN")
t.reply(c.cmd("dXNlcg=x"), 501, "5.5.2", "AUTH LOGIN, malformed base64 user: 501 5.5.2")
t.reply(c.cmd("AUTH PLAIN abc"), 501, "5.5.2", "AUTH PLAIN with a malformed initial response (bad length): 501 5.5.2")
t.reply(c.cmd("AUTH PLAIN " + b64("no-nul-separators")), 501, None,
        "AUTH PLAIN whose decoded response has no NULs: 501")
t.reply(c.cmd("AUTH PLAIN " + plain_token(A, "")), 501, None,
        "AUTH PLAIN with an empty password: 501 (RFC 4616: passwd = 1*SAFE)")
t.reply(c.cmd("AUTH CRAM-MD5"), 504, "5.5.4", "unknown mechanism: 504 5.5.4")
t.reply(c.auth_plain(A, PW["alice"]), 235, "2.7.0", "after cancels and errors a good login still works")
c.close()

# ---- sender ownership --------------------------------------------------------------
c = tls("alice")
for frm, want in (("alice@example.test", 250), ("alice+tag@example.test", 250),
                  ("Alice@EXAMPLE.test", 250), ("info@example.test", 250),
                  ("sales@example.test", 250), ("info+x@example.test", 250),
                  ("bob@example.test", 553), ("support@example.test", 553),
                  ("alice@other.test", 553), ("zed@other.test", 553),
                  ("alice@remote.example", 553), ("nosuch@example.test", 553),
                  ("alicex@example.test", 553)):
    r = c.cmd("MAIL FROM:<%s>" % frm)
    if want == 250:
        t.reply(r, 250, "2.1.0", "alice may send as %s: 250" % frm)
    else:
        t.reply(r, 553, "5.7.1", "alice may not send as %s: 553 5.7.1" % frm)
    c.cmd("RSET")
c.close()
t.ok(re.search(r"smtp sender refused user=<alice@example\.test> from=<bob@example\.test>", srv.log()),
     "log: sender refused names the user and the address")

# ---- relay to a remote domain after AUTH -----------------------------------------------
before = srv.queue_ids()
mid = "<t13-relay-%d@test.example>" % os.getpid()
s = submission(SUB, source=next(ips))
s.login("bob@example.test", PW["bob"])
t.eq(s.sendmail("bob@example.test", ["friend@remote.example", "alice@example.test"],
                message("bob@example.test", "friend@remote.example", "relay", msgid=mid)), {},
     "bob (authenticated) sends to friend@remote.example and alice: accepted")
s.quit()
got = wait_until(lambda: [m for m in srv.read_messages("example.test", "alice")
                          if header(m, "Message-ID") == mid], 15)
t.eq(len(got or []), 1, "the local copy arrives in alice's Maildir")
t.ok(got and re.search(rb"with ESMTPSA", got[0]), "local copy: Received with ESMTPSA")
def new_ids():
    return [q for q in srv.queue_ids() if q not in before]
wait_until(lambda: new_ids(), 5)
time.sleep(0.5)
ids = new_ids()
t.eq(len(ids), 1, "one new message in <spool>/queue", srv.queue_ids())
qf = srv.queue_file(ids[0]) if ids else b""
t.ok(mid.encode() in qf and re.search(rb"(?m)^target remote \d+ \d+:friend@remote\.example ", qf),
     "the queue file holds the message and a remote target friend@remote.example", qf[-600:])
t.ok(re.search(rb"(?m)^auth_user \d+:bob@example\.test$", qf), "the envelope records auth_user bob", qf[-600:])
t.ok(wait_until(lambda: re.search(remote_waits_re("friend@remote.example"), srv.log()), 10),
     "log: friend@remote.example waits for outbound delivery (or is deferred)", srv.log()[-1500:])
time.sleep(1.0)
t.ok(ids and ids[0] in srv.queue_ids(), "the remote message stays in the spool (not dropped)")

# ---- user_messages_per_hour = 3 -----------------------------------------------------
c = tls("carol")
c.cmd("MAIL FROM:<carol@example.test>")
r = [c.cmd("RCPT TO:<%s>" % x) for x in ("alice@example.test", "bob@example.test")]
t.eq([x[0] for x in r], [250, 250], "carol: recipients 1 and 2 accepted")
c.cmd("DATA")
c.send(message("carol@example.test", "alice@example.test", "limit-1") + b".\r\n")
t.eq(c.reply()[0], 250, "carol: message 1 accepted")
c.cmd("MAIL FROM:<carol@example.test>")
t.reply(c.cmd("RCPT TO:<x1@remote.example>"), 250, "2.1.5", "carol: recipient 3 accepted")
t.reply(c.cmd("RCPT TO:<bob@example.test>"), 451, "4.7.1", "carol: recipient 4 within the hour: 451 4.7.1")
t.reply(c.cmd("RCPT TO:<dave@example.test>"), 451, "4.7.1", "carol: recipient 5: 451 4.7.1")
c.close()
t.ok(re.search(r"smtp rate limit user=<carol@example\.test>", srv.log()),
     "log: rate limit line names carol", srv.log()[-1200:])
c = tls("carol")
c.cmd("MAIL FROM:<carol@example.test>")
t.reply(c.cmd("RCPT TO:<alice@example.test>"), 451, "4.7.1", "carol: a new session is limited too")
c.close()
c = tls("dave")
c.cmd("MAIL FROM:<dave@example.test>")
t.reply(c.cmd("RCPT TO:<alice@example.test>"), 250, "2.1.5", "dave is not limited by carol's count")
c.close()

# ---- users file edited while running --------------------------------------------------
conf = srv.conf
def tu(*args, stdin=None):
    return run([srv.bin, "user"] + list(args) + ["-c", conf], input=stdin)
rc, out, err = tu("passwd", "example.test", "erin", "--password-stdin", stdin=b"Erin-New-Pw-13\n")
t.eq(rc, 0, "tern user passwd erin: exit 0", err)
c = tls()
t.reply(c.auth_plain("erin@example.test", "Erin-New-Pw-13"), 235, "2.7.0",
        "erin logs in with the new password without a restart")
c.close()
c = tls()
t.reply(c.auth_plain("erin@example.test", PW["erin"]), 535, "5.7.8", "erin's old password fails")
c.close()
rc, out, err = tu("add", "example.test", "frank", "--password-stdin", stdin=b"Frank-Pw-13\n")
t.eq(rc, 0, "tern user add frank: exit 0", err)
c = tls()
t.reply(c.auth_plain("frank@example.test", "Frank-Pw-13"), 235, "2.7.0", "a user added while running can log in")
c.close()
rc, out, err = tu("del", "example.test", "frank")
t.eq(rc, 0, "tern user del frank: exit 0", err)
c = tls()
t.reply(c.auth_plain("frank@example.test", "Frank-Pw-13"), 535, "5.7.8", "a deleted user can no longer log in")
c.close()
t.ok(re.search(r"^erin:\{SHA512-CRYPT\}\$6\$", open(USERS).read(), re.M), "users file: erin has a {SHA512-CRYPT} hash")

# ---- log ------------------------------------------------------------------------------
log = srv.log()
secrets = list(PW.values()) + WRONG + ["Erin-New-Pw-13", "Frank-Pw-13"]
leaks = [p for p in secrets if p in log]
leaks += [p for p in secrets if b64(p) in log]
leaks += [u for u, p in PW.items() if plain_token(u + "@example.test", p) in log]
t.eq(leaks, [], "no password (plain or base64) in tern's log")
t.ok(re.search(r"smtp auth failed ip=127\.0\.0\.\d+ user=<alice@example\.test> reason=\"[^\"]+\" delay=\d+ms", log),
     "log: auth failed line with ip, user, reason, delay", log[-1500:])
t.ok(re.search(r"smtp auth ok ip=127\.0\.0\.\d+ user=<alice@example\.test>", log), "log: smtp auth ok line")
t.eq(srv.stop(15), 0, "SIGTERM: exit 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
