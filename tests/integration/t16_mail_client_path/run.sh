#!/usr/bin/env bash
# t16_mail_client_path: what a mail client does.  smtplib on the
# submission port (STARTTLS, login, send_message) and on the submissions
# port (implicit TLS), one message to a local user and a remote address
# each: the local copy arrives in the Maildir once, the remote one waits
# in the spool (queue file whose envelope names the remote address and
# the authenticated user).  After SIGTERM and a new start both remote
# messages are still queued, logged again as waiting, and no local copy is
# delivered twice.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern

"$PY" - <<'PYEOF'
import os, re, smtplib, time
from email.message import EmailMessage
from email.utils import make_msgid, formatdate
from tern import Tap, sha512_crypt, header, wait_until
from submission import TernTLS, make_cert, tls_ctx, remote_waits_re

t = Tap()
srv = TernTLS(16, "tern")
cert, key = make_cert(srv.dir, "default", "mx.test.example")
srv.tls(cert, key)
SUB = srv.listen("sub", 1, "submission")
SUBS = srv.listen("subs", 2, "submissions")
PW = "Client-Pw-16"
srv.domain("example.test", users=["alice", "bob"], passwords={"alice": sha512_crypt(PW)})
held = srv.hold_outbound()   # remote recipients stay queued: no DNS, no network
if not t.ok(srv.start(), "tern starts"):
    t.done()

def compose(tag, to):
    m = EmailMessage()
    m["From"] = "Alice <alice@example.test>"
    m["To"] = ", ".join(to)
    m["Subject"] = "t16 " + tag
    m["Date"] = formatdate()
    m["Message-ID"] = make_msgid(tag, domain="client.test")
    m.set_content("Hello from a mail client (%s).\nSecond line.\n" % tag)
    return m

RCPTS = {"starttls": ["bob@example.test", "carol@remote.example"],
         "implicit": ["bob@example.test", "dave@faraway.example"]}
mids = {}
for how, port in (("starttls", SUB), ("implicit", SUBS)):
    m = compose(how, RCPTS[how])
    mids[how] = m["Message-ID"]
    try:
        if how == "starttls":
            s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=30)
            s.ehlo()
            s.starttls(context=tls_ctx())
            s.ehlo()
        else:
            s = smtplib.SMTP_SSL("127.0.0.1", port, local_hostname="client.test", timeout=30,
                                 context=tls_ctx())
            s.ehlo()
        s.login("alice@example.test", PW)
        refused = s.send_message(m)
        s.quit()
    except Exception as e:
        refused = repr(e)
    t.eq(refused, {}, "%s: login and send_message to %s accepted" % (how, ", ".join(RCPTS[how])))

def bob_copies(mid):
    return [x for x in srv.read_messages("example.test", "bob") if header(x, "Message-ID") == mid]

for how, mid in mids.items():
    got = wait_until(lambda: bob_copies(mid), 15) or []
    t.eq(len(got), 1, "%s: the local copy arrives in bob's Maildir" % how)
    t.ok(got and b"with ESMTPSA" in got[0], "%s: Received says ESMTPSA" % how)

def queued():
    """{message-id: (queue id, bytes)} of the queue files."""
    out = {}
    for q in srv.queue_ids():
        try:
            data = srv.queue_file(q)
        except OSError:
            continue
        for how, mid in mids.items():
            if mid.encode() in data:
                out[how] = (q, data)
    return out

def check_queue(when):
    # let the local targets finish so only the remote ones keep the file
    time.sleep(0.5)
    qs = wait_until(lambda: queued() if len(queued()) == 2 else None, 10) or queued()
    for how, remote in (("starttls", "carol@remote.example"), ("implicit", "dave@faraway.example")):
        q = qs.get(how)
        if not t.ok(q, "%s, %s: the message is in <spool>/queue" % (when, how), srv.queue_ids()):
            continue
        data = q[1]
        t.ok(re.search(rb"(?m)^target remote \d+ \d+:" + re.escape(remote.encode()) + rb" ", data),
             "%s, %s: its envelope has a remote target %s" % (when, how, remote), data[-500:])
        t.ok(re.search(rb"(?m)^auth_user \d+:alice@example\.test$", data),
             "%s, %s: its envelope records auth_user alice" % (when, how), data[-500:])
    return qs

before = check_queue("before restart")
log = srv.log()
for remote in ("carol@remote.example", "dave@faraway.example"):
    t.ok(wait_until(lambda: re.search(remote_waits_re(remote), srv.log()), 10),
         "log: remote target %s waits for outbound delivery (or is deferred)" % remote)

# ---- restart ----------------------------------------------------------------------
t.eq(srv.stop(15), 0, "SIGTERM: exit 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report (first run)", srv.sanitizer_report())
log_len = len(srv.log())
if not t.ok(srv.start(), "tern starts again on the same spool"):
    t.done()
after = check_queue("after restart")
t.eq(sorted(q for q, _ in after.values()), sorted(q for q, _ in before.values()),
     "the same queue ids survive the restart")
time.sleep(1.0)
for remote in ("carol@remote.example", "dave@faraway.example"):
    if held:
        # outbound delivery: the next attempt is an hour away (min_retry);
        # the recipient must be neither bounced nor dropped meanwhile
        bad = re.search(r"rcpt=<?%s>? .*status=(bounced|sent|expired)|queue failed rcpt=<?%s"
                        % (re.escape(remote), re.escape(remote)), srv.log())
        t.ok(not bad, "after restart, log: %s neither bounced nor sent" % remote, bad and bad.group(0))
    else:
        t.ok(wait_until(lambda: re.search(remote_waits_re(remote), srv.log()[log_len:]), 10),
             "after restart, log: %s still waits for outbound delivery" % remote, srv.log()[-1500:])
for how, mid in mids.items():
    t.eq(len(bob_copies(mid)), 1, "%s: still exactly one local copy after the restart" % how)
t.eq(srv.tmp_files(), [], "no Maildir tmp/ leftovers")
t.eq(srv.stop(15), 0, "SIGTERM after restart: exit 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
