#!/usr/bin/env bash
# t25_smarthost: [relay] with tls = starttls, user and password_file.
# The smarthost is a private Postfix that takes mail only after STARTTLS
# and SMTP AUTH, checked by a private Dovecot (smtpd_sasl_type = dovecot,
# passwd-file).  With the right password the message arrives through
# the smarthost (Received "with ESMTPSA", "Authenticated sender:"), and
# the domain's own MX (a scripted server) is never contacted.  With a
# wrong password tern defers (535 is not the recipient's fault) and keeps
# the message; after the password file is fixed and tern restarted, the
# kept message is delivered.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
. "$TERN_ROOT/tests/lib/outbound.sh"
require_tern
require_outbound
require_cmd postfix script dovecot doveadm openssl
on_cleanup 'postfix -c "$TERN_TEST_DIR/smarthost/etc" stop'
on_cleanup 'doveadm -c "$TERN_TEST_DIR/dovecot-auth/dovecot.conf" stop'

"$PY" - <<'PYEOF'
import os, re, subprocess
from tern import Tap, wait_until
from outbound import TernOut, inject
from mta_peers import PostfixDest, DovecotAuth, received_with

t = Tap()
T = os.environ["TERN_TEST_DIR"]
srv = TernOut(25, "tern")
dns = srv.dnsmasq()
SH_PORT = srv.ports(4)
dns.mx("far.test", "mx.far.test", 10); dns.host("mx.far.test", "127.0.0.11")
direct = srv.scripted("127.0.0.11", "direct-mx")
c, k = os.path.join(T, "sh.crt"), os.path.join(T, "sh.key")
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", k, "-out", c,
                "-days", "2", "-subj", "/CN=smarthost.test"], capture_output=True, check=True)
os.chmod(k, 0o644)
PW = "c0rrect horse:battery"
da = DovecotAuth(os.path.join(T, "dovecot-auth"), {"tern-relay": PW})
sh = PostfixDest(os.path.join(T, "smarthost"), "127.0.0.1", SH_PORT, ["far.test"], ["u@far.test"],
                 tls=(c, k), sasl_socket=da.socket, hostname="smarthost.test.example")
pwfile = os.path.join(T, "relay.password")
with open(pwfile, "w") as f:
    f.write("wrong password\n")
os.chmod(pwfile, 0o600)
srv.relay(host="127.0.0.1:%d" % SH_PORT, tls="starttls", user="tern-relay", password_file=pwfile)
srv.domain("example.test", users=["alice"], aliases={"far": ["u@far.test"]})
srv.queue(min_retry="1s", max_retry="2s")
if not t.ok(dns.start(), "dnsmasq starts"):
    t.done()
try:
    up = da.start() and sh.start()
except Exception as e:
    up = False
    t.diag(str(e))
if not t.ok(up, "Dovecot auth and smarthost Postfix on 127.0.0.1:%d" % SH_PORT):
    t.done()
direct.start()
if not t.ok(srv.start(), "tern starts with [relay] (wrong password)"):
    t.done()
ALICE = "alice@example.test"

# ---- wrong password: deferred, kept -------------------------------------------------
m1 = inject(srv, ALICE, ["far@example.test"], "t25 wrong password")
t.ok(m1.ok, "tern accepts far@", m1)
ls = srv.wait_deliver(rcpt="u@far.test", status="deferred", n=2, timeout=20)
t.ok(len(ls) >= 2, "wrong password: deferred and retried", srv.log()[-1500:])
t.ok(ls and "535" in (ls[0]["reply"] or "") and ls[0]["dsn"].startswith("4."),
     "deferred line quotes the 535 with a 4.x.x dsn", ls[:1])
t.ok(ls and ls[0]["relay"].startswith("127.0.0.1[127.0.0.1]:%d" % SH_PORT) or
     (ls and "[127.0.0.1]:%d" % SH_PORT in ls[0]["relay"]), "relay= is the smarthost", ls[:1])
t.ok(not srv.deliver_lines(rcpt="u@far.test", status="bounced"), "not bounced")
t.eq(sh.messages("u@far.test"), [], "nothing delivered with a wrong password")
t.ok(re.search(r"authentication failed", sh.log()) or "auth" in da.log(),
     "the smarthost saw a failed AUTH", sh.log()[-800:])
t.eq(srv.read_messages("example.test", "alice"), [], "no DSN for an AUTH failure")

# ---- fixed password: delivered through the smarthost ---------------------------------------
t.eq(srv.stop(15), 0, "tern stops (SIGTERM)")
with open(pwfile, "w") as f:
    f.write(PW + "\nsecond line is ignored\n")
if not t.ok(srv.start(), "tern restarts with the right password"):
    t.done()
m2 = inject(srv, ALICE, ["far@example.test"], "t25 right password")
def arrived(m):
    return [x for x in sh.messages("u@far.test") if m.msgid.encode() in x]
for name, m in (("kept message", m1), ("new message", m2)):
    got = wait_until(lambda: arrived(m), 30) or []
    if t.eq(len(got), 1, "%s arrives through the smarthost" % name, sh.log()[-1500:]):
        w = received_with(got[0])
        t.eq(w[:1], ["ESMTPSA"], "%s: smarthost's Received says ESMTPSA" % name, w)
        t.ok(b"Authenticated sender: tern-relay" in got[0], "%s: authenticated as tern-relay" % name)
ls = srv.deliver_lines(rcpt="u@far.test", status="sent")
t.eq(len(ls), 2, "two status=sent lines", srv.log()[-1500:])
t.ok(all(re.search(r"TLSv1\.[23]", d["tls"] or "") for d in ls), "tls= shows TLS for both", ls)
t.eq(direct.connections, 0, "the domain's own MX was never contacted")
t.ok(re.search(r"sasl_method=PLAIN|sasl_method=LOGIN", sh.log()), "smarthost logged the SASL method")
t.ok(wait_until(lambda: srv.queue_ids() == [], 15), "spool empty", srv.queue_ids())
direct.stop()
sh.stop()
da.stop()
t.eq(srv.stop(15), 0, "SIGTERM: tern exits 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
dns.stop()
t.done()
PYEOF
