#!/usr/bin/env bash
# t04_postfix_relay: a private Postfix (postfix -c DIR, everything under the
# test dir, smtpd on 127.0.0.1, relayhost = [127.0.0.1]:<tern port>, no DNS)
# takes messages over smtplib and relays them into tern with Postfix's own
# SMTP client (pipelining, 8BITMIME, multi-recipient, 1 MB).  Asserts they
# land in tern's Maildirs byte for byte and Postfix logged status=sent.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern
require_cmd postfix script
on_cleanup 'postfix -c "$TERN_TEST_DIR/postfix/etc" stop'

"$PY" - <<'PYEOF'
import os, re, smtplib, time
from tern import Tap, Tern, header, wait_until, split_delivered, message
from postfix import Postfix

t = Tap()
srv = Tern(4, "tern")
srv.domain("example.test", users=["alice", "bob"], aliases={"both": ["alice", "bob"]})
if not t.ok(srv.start(), "tern starts"):
    t.done()
pf = Postfix(os.path.join(os.environ["TERN_TEST_DIR"], "postfix"), srv.ports(1),
             relayhost="[%s]:%d" % (srv.host, srv.port))
try:
    up = pf.start()
except Exception as e:
    up = False
    t.diag(str(e))
if not t.ok(up, "private Postfix starts on 127.0.0.1:%d" % srv.ports(1)):
    t.done()

msgs = []
def submit(rcpts, subject, body):
    mid = "<t04-%s-%d@test.example>" % (subject, os.getpid())
    data = message("sender@remote.example", rcpts[0], subject, body=body, msgid=mid)
    with smtplib.SMTP("127.0.0.1", pf.port, local_hostname="client.test", timeout=30) as s:
        refused = s.sendmail("sender@remote.example", rcpts, data)
    t.eq(refused, {}, "Postfix accepts %s for %s" % (subject, ", ".join(rcpts)))
    msgs.append((mid, data, rcpts))

submit(["alice@example.test"], "plain", "Relayed through Postfix.\r\n.dot line\r\n")
submit(["alice@example.test", "bob@example.test"], "tworcpt", "Two recipients.\r\n")
submit(["both@example.test"], "alias", "To an alias.\r\n")
submit(["bob@example.test"], "eightbit", "Grüße aus Postfix — 8bit.\r\n")
submit(["alice@example.test"], "big", ("y" * 76 + "\r\n") * 13000)

def delivered(user, mid):
    return [m for m in srv.read_messages("example.test", user) if header(m, "Message-ID") == mid]

for mid, data, rcpts in msgs:
    users = set()
    for r in rcpts:
        users |= {"alice", "bob"} if r.startswith("both@") else {r.split("@")[0]}
    for u in sorted(users):
        got = wait_until(lambda: delivered(u, mid), 30) or []
        if t.eq(len(got), 1, "%s delivered once to %s via Postfix" % (mid, u)):
            t.eq(split_delivered(got[0])[1].split(b"\n\n", 1)[1],
                 data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1],
                 "%s body intact for %s" % (mid, u))
            t.ok(re.search(rb"(?mi)^Received: .*relay\.test\.example", split_delivered(got[0])[1])
                 or b"relay.test.example" in got[0],
                 "%s carries Postfix's Received header" % mid)

t.ok(wait_until(lambda: pf.queue_count() == 0, 30), "Postfix queue empty (all relayed)",
     pf.log()[-2000:])
log = pf.log()
t.eq(len(re.findall(r"status=sent \(250 ", log)), 6, "Postfix logged 6 status=sent (250 ...), one per recipient")
t.ok("relay=127.0.0.1[127.0.0.1]:%d" % srv.port in log, "Postfix relayed to tern's port",
     log[-2000:])
t.ok(not re.search(r"status=(deferred|bounced)", log), "no deferred or bounced", log[-2000:])

pf.stop()
t.ok(pf.master_pid() is None or not os.path.exists("/proc/%d" % pf.master_pid()),
     "private Postfix stopped")
t.eq(srv.stop(15), 0, "SIGTERM: tern exits 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
