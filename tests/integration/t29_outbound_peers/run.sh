#!/usr/bin/env bash
# t29_outbound_peers: checks the peers the outbound tests (t20-t28) rely
# on, against real components and without tern, so that a failure there
# points at tern and not at the harness.  dnsmasq (tests/lib/dnsmasq.py):
# MX, A/AAAA, CNAME, null MX, NXDOMAIN, SERVFAIL, as seen by its stub
# resolver and by dig.  The scripted server (tests/lib/scripted_smtp.py)
# driven by Postfix's own SMTP client: STARTTLS, pipelining, a 550 whose
# Postfix DSN comes back to it and parses with outbound.parse_dsn, a 451
# that Postfix retries.  PostfixDest (tests/lib/mta_peers.py): STARTTLS,
# Received "with ESMTPS", virtual Maildir; with DovecotAuth: AUTH after
# STARTTLS only, wrong password 535, unauthenticated relay refused.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_cmd postfix script dovecot doveadm openssl /usr/sbin/dnsmasq
on_cleanup 'postfix -c "$TERN_TEST_DIR/client-postfix/etc" stop'
on_cleanup 'postfix -c "$TERN_TEST_DIR/dest-postfix/etc" stop'
on_cleanup 'postfix -c "$TERN_TEST_DIR/smarthost/etc" stop'
on_cleanup 'doveadm -c "$TERN_TEST_DIR/dovecot-auth/dovecot.conf" stop'

"$PY" - <<'PYEOF'
import base64, os, re, smtplib, ssl, subprocess, time
from tern import Tap, wait_until
from dnsmasq import Dnsmasq
from scripted_smtp import ScriptedSMTP
from outbound import parse_dsn
from postfix import Postfix
from mta_peers import PostfixTLS, PostfixDest, DovecotAuth, received_with

t = Tap()
T = os.environ["TERN_TEST_DIR"]
base = int(os.environ.get("TERN_PORT_BASE", "21000")) + 29 * 20
DNS_PORT, DEAD, MXP = base + 1, base + 2, base + 3

def cert(name, cn):
    c, k = os.path.join(T, name + ".crt"), os.path.join(T, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", k,
                    "-out", c, "-days", "2", "-subj", "/CN=" + cn], capture_output=True, check=True)
    os.chmod(k, 0o644)
    return c, k

# ---- dnsmasq ----------------------------------------------------------------
dns = Dnsmasq(os.path.join(T, "dnsmasq"), DNS_PORT, dead_port=DEAD)
dns.mx("dest.test", "mx1.dest.test", 10); dns.mx("dest.test", "mx2.dest.test", 20)
dns.host("mx1.dest.test", "127.0.0.11"); dns.host("mx2.dest.test", "127.0.0.12", "::1")
dns.host("amx.test", "127.0.0.15")
dns.cname("www.amx.test", "amx.test")
dns.null_mx("nullmx.test"); dns.host("nullmx.test", "127.0.0.16")
dns.servfail("servfail.test")
t.ok(dns.start(), "dnsmasq starts on 127.0.0.1:%d" % DNS_PORT, dns.log()[-1000:])
t.eq(sorted(dns.query("dest.test", "MX") or []), [(10, "mx1.dest.test"), (20, "mx2.dest.test")],
     "MX records")
t.eq(dns.query("mx2.dest.test", "A"), ["127.0.0.12"], "A record")
t.eq(dns.query("mx2.dest.test", "AAAA"), ["::1"], "AAAA record")
t.eq(dns.query("amx.test", "MX", rcode=True), ("NOERROR", []), "no MX: NOERROR, empty answer")
t.eq(dns.query("amx.test", "A"), ["127.0.0.15"], "the no-MX domain's A record")
t.eq(dns.query("www.amx.test", "A"), ["amx.test", "127.0.0.15"], "CNAME then A")
t.eq(dns.query("nullmx.test", "MX"), [(0, "")], "null MX: 0 .")
t.eq(dns.query("nothere.test", "MX", rcode=True), ("NXDOMAIN", []), "unknown .test name: NXDOMAIN")
t.eq(dns.query("nothere.example", "A", rcode=True), ("NXDOMAIN", []), "unknown .example name: NXDOMAIN")
t.eq(dns.query("servfail.test", "MX", rcode=True), ("SERVFAIL", []), "servfail.test: SERVFAIL")
t.eq(dns.query("a.servfail.test", "A", rcode=True), ("SERVFAIL", []), "below servfail.test: SERVFAIL")
if os.path.exists("/usr/bin/dig"):
    r = subprocess.run(["dig", "@127.0.0.1", "-p", str(DNS_PORT), "+short", "MX", "nullmx.test"],
                       capture_output=True, text=True, timeout=20)
    t.eq(r.stdout.strip(), "0 .", "dig sees the null MX as 0 .")
    r = subprocess.run(["dig", "@127.0.0.1", "-p", str(DNS_PORT), "MX", "servfail.test"],
                       capture_output=True, text=True, timeout=20)
    t.ok("status: SERVFAIL" in r.stdout, "dig sees SERVFAIL", r.stdout)
else:
    t.skip("dig checks", "dig not installed (bind9-dnsutils)")

# ---- scripted server with Postfix's SMTP client ---------------------------------
c1, k1 = cert("scripted", "mx1.dest.test")
sc = ScriptedSMTP("127.0.0.11", MXP, os.path.join(T, "scripted"), name="mx1", tls=(c1, k1),
                  rcpt={"gone@dest.test": "550 5.1.1 <gone@dest.test>: t29 no such user",
                        "later@dest.test": ["451 4.3.0 t29 try later", "250 2.1.5 ok"]})
sc.start()
pf = PostfixTLS(os.path.join(T, "client-postfix"), base + 4, relayhost="[127.0.0.11]:%d" % MXP,
             extra={"smtp_tls_security_level": "may", "smtp_tls_loglevel": "1",
                    "minimal_backoff_time": "1s", "maximal_backoff_time": "2s",
                    "queue_run_delay": "1s", "bounce_queue_lifetime": "0"},
             hostname="client-postfix.test.example")
try:
    up = pf.start()
except Exception as e:
    up = False
    t.diag(str(e))
t.ok(up, "client Postfix starts")
MID = "<t29-plain@t.example>"
with smtplib.SMTP("127.0.0.1", pf.port, local_hostname="client.test", timeout=30) as s:
    s.sendmail("sender@remote.example", ["u@dest.test", "v@dest.test"],
               b"From: <sender@remote.example>\r\nSubject: t29\r\nMessage-ID: " + MID.encode() +
               b"\r\n\r\n.dot line\r\nbody\r\n")
    s.sendmail("sender@remote.example", ["gone@dest.test"],
               b"Subject: t29 bounce\r\nMessage-ID: <t29-gone@t.example>\r\n\r\nbody\r\n")
    s.sendmail("sender@remote.example", ["later@dest.test"],
               b"Subject: t29 later\r\nMessage-ID: <t29-later@t.example>\r\n\r\nbody\r\n")
got = wait_until(lambda: [x for x in sc.accepted if x.header("Message-ID") == MID], 30) or []
if t.eq(len(got), 1, "scripted server records Postfix's transaction"):
    tx = got[0]
    t.eq(sorted(tx.rcpts), ["u@dest.test", "v@dest.test"], "both recipients in one transaction")
    t.eq(tx.mail_from, "sender@remote.example", "envelope sender recorded")
    t.ok(tx.tls and tx.tls.startswith("TLS"), "Postfix used STARTTLS (%s)" % tx.tls)
    t.ok(tx.data.endswith(b"\r\n.dot line\r\nbody\r\n"), "data unstuffed", tx.data[-80:])
    t.ok(os.path.exists(tx.path) and open(tx.path, "rb").read() == tx.data, "recorded to a file")
t.eq(sc.violations, [], "no protocol slips from Postfix's client", sc.violations)
dsn = wait_until(lambda: [x for x in sc.accepted if x.mail_from == ""], 60) or []
if t.eq(len(dsn), 1, "Postfix's bounce for gone@ comes back with MAIL FROM:<>"):
    d = parse_dsn(dsn[0].data)
    t.eq(d["content_type"], "multipart/report", "parse_dsn: multipart/report")
    t.eq(d["report_type"], "delivery-status", "parse_dsn: report-type")
    rc = d["recipients"][0] if d["recipients"] else {}
    t.eq(rc.get("final-recipient", "").lower(), "rfc822; gone@dest.test", "parse_dsn: Final-Recipient", d["recipients"])
    t.eq(rc.get("action"), "failed", "parse_dsn: Action")
    t.eq(rc.get("status"), "5.1.1", "parse_dsn: Status")
    t.ok("t29 no such user" in rc.get("diagnostic-code", ""), "parse_dsn: Diagnostic-Code", rc)
    t.ok("reporting-mta" in d["per_message"], "parse_dsn: per-message fields", d["per_message"])
    t.ok(d["original"] and b"<t29-gone@t.example>" in d["original"], "parse_dsn: returned message",
         d["original_type"])
later = wait_until(lambda: sc.delivered_to("later@dest.test"), 60) or []
t.eq(len(later), 1, "451 then 250: Postfix's retry is accepted once")
t.eq(sc.rcpt_attempts("later@dest.test"), 2, "the scripted server counted both RCPTs")
pf.stop()
sc.stop()

# ---- Postfix as STARTTLS destination ------------------------------------------
c2, k2 = cert("dest", "postfix-dest.test")
dest = PostfixDest(os.path.join(T, "dest-postfix"), "127.0.0.13", MXP, ["dest.test"],
                   ["u@dest.test"], tls=(c2, k2))
try:
    up = dest.start()
except Exception as e:
    up = False
    t.diag(str(e))
t.ok(up, "Postfix destination on 127.0.0.13:%d" % MXP)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
with smtplib.SMTP("127.0.0.13", MXP, local_hostname="client.test", timeout=30) as s:
    s.ehlo()
    t.ok(s.has_extn("starttls"), "it offers STARTTLS")
    s.starttls(context=ctx); s.ehlo()
    s.sendmail("a@remote.example", ["u@dest.test"], b"Subject: tls\r\nMessage-ID: <t29-tls@t.example>\r\n\r\nx\r\n")
with smtplib.SMTP("127.0.0.13", MXP, local_hostname="client.test", timeout=30) as s:
    s.sendmail("a@remote.example", ["u@dest.test"], b"Subject: plain\r\nMessage-ID: <t29-clear@t.example>\r\n\r\nx\r\n")
msgs = wait_until(lambda: (lambda m: m if len(m) >= 2 else None)(dest.messages("u@dest.test")), 30) or []
t.eq(len(msgs), 2, "both delivered into the virtual Maildir", dest.log()[-1500:])
tls_m = [m for m in msgs if b"<t29-tls@t.example>" in m]
clr_m = [m for m in msgs if b"<t29-clear@t.example>" in m]
t.ok(tls_m and received_with(tls_m[0])[0] == "ESMTPS", "Received says ESMTPS after STARTTLS",
     tls_m and received_with(tls_m[0]))
t.ok(clr_m and received_with(clr_m[0])[0] == "ESMTP", "Received says ESMTP in clear",
     clr_m and received_with(clr_m[0]))
dest.stop()

# ---- smarthost: Postfix + Dovecot SASL ---------------------------------------------
da = DovecotAuth(os.path.join(T, "dovecot-auth"), {"relayuser": "s3cret pass"})
try:
    up = da.start()
except Exception as e:
    up = False
    t.diag(str(e))
t.ok(up, "Dovecot auth socket up", da.log()[-800:])
c3, k3 = cert("smarthost", "smarthost.test")
sh = PostfixDest(os.path.join(T, "smarthost"), "127.0.0.1", base + 5, ["far.test"],
                 ["u@far.test"], tls=(c3, k3), sasl_socket=da.socket)
try:
    up = sh.start()
except Exception as e:
    up = False
    t.diag(str(e))
t.ok(up, "smarthost Postfix on 127.0.0.1:%d" % (base + 5))
with smtplib.SMTP("127.0.0.1", base + 5, local_hostname="client.test", timeout=30) as s:
    s.ehlo()
    t.ok(not s.has_extn("auth"), "no AUTH before STARTTLS", s.esmtp_features)
    code, _ = s.docmd("MAIL FROM:<a@remote.example>")
    code, txt = s.docmd("RCPT TO:<u@far.test>")
    t.ok(code >= 500 and code < 600, "unauthenticated RCPT refused (%d %s)" % (code, txt))
with smtplib.SMTP("127.0.0.1", base + 5, local_hostname="client.test", timeout=30) as s:
    s.ehlo(); s.starttls(context=ctx); s.ehlo()
    t.ok(s.has_extn("auth"), "AUTH offered after STARTTLS", s.esmtp_features)
    code, _ = s.docmd("AUTH PLAIN " + base64.b64encode(b"\0relayuser\0wrong").decode())
    t.eq(code, 535, "wrong password: 535")
with smtplib.SMTP("127.0.0.1", base + 5, local_hostname="client.test", timeout=30) as s:
    s.ehlo(); s.starttls(context=ctx); s.ehlo()
    s.login("relayuser", "s3cret pass")
    s.sendmail("a@remote.example", ["u@far.test"],
               b"Subject: auth\r\nMessage-ID: <t29-auth@t.example>\r\n\r\nx\r\n")
m = wait_until(lambda: sh.messages("u@far.test"), 30) or []
t.eq(len(m), 1, "authenticated relay delivered", sh.log()[-1500:])
t.ok(m and received_with(m[0])[0] == "ESMTPSA", "Received says ESMTPSA", m and received_with(m[0]))
t.ok(m and b"Authenticated sender: relayuser" in m[0], "Received names the SASL user")
sh.stop()
da.stop()
dns.stop()
t.done()
PYEOF
