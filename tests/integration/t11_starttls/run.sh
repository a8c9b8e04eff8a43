#!/usr/bin/env bash
# t11_starttls: STARTTLS on mx and submission, implicit TLS on
# submissions.  openssl s_client handshakes (TLS 1.2 and 1.3; TLS 1.0 and
# 1.1 refused by tern, with a private s_server as the control that the
# client could speak them), swaks --tls / --tlsc with AUTH PLAIN and
# LOGIN, smtplib starttls()+login(); AUTH advertised only after TLS and
# only on the submission roles (538 5.7.11 before TLS, 502 5.5.1 on mx);
# Received header says ESMTPS / ESMTPSA and the TLS version; SNI picks the
# [tls other] certificate, no SNI gets the default one.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern
require_cmd openssl swaks

"$PY" - <<'PYEOF'
import os, re, smtplib, ssl, subprocess
from tern import Tap, Raw, sha512_crypt, header, message, wait_until, spawn, wait_port
from submission import (TernTLS, make_cert, tls_ctx, s_client, s_client_cert_cn,
                        submission, submissions, plain_token, b64)

t = Tap()
srv = TernTLS(11, "tern")
cert, key = make_cert(srv.dir, "default", "mx.test.example")
ocert, okey = make_cert(srv.dir, "other", "mail.other.test")
srv.tls(cert, key)
srv.tls(ocert, okey, name="other", hostnames="mail.other.test")
SUB = srv.listen("sub", 1, "submission")
SUBS = srv.listen("subs", 2, "submissions")
MX = srv.port
PW = "Tls-Secret-11"
srv.domain("example.test", users=["alice", "bob"],
           passwords={"alice": sha512_crypt(PW), "bob": sha512_crypt("bob-pw-11")})
if not t.ok(srv.start(), "tern starts with [tls], submission and submissions"):
    t.done()
t.ok(wait_port("127.0.0.1", SUB, 10) and wait_port("127.0.0.1", SUBS, 10),
     "submission and submissions ports accept connections")

def brief(out, key):
    m = re.search(r"(?m)^%s:\s*(\S+)" % re.escape(key), out)
    return m.group(1) if m else None

# ---- openssl s_client: STARTTLS, TLS 1.2 and 1.3 ----------------------------
for port, where in ((MX, "mx"), (SUB, "submission")):
    for ver, flag in (("TLSv1.3", "-tls1_3"), ("TLSv1.2", "-tls1_2")):
        rc, out = s_client(port, ["-starttls", "smtp", "-name", "client.test", flag,
                                  "-noservername", "-brief"])
        t.eq(brief(out, "Protocol version"), ver,
             "s_client -starttls smtp %s on %s: handshake, %s" % (flag, where, ver), out[-1500:])
rc, out = s_client(SUBS, ["-brief", "-noservername"])
t.eq(brief(out, "Protocol version"), "TLSv1.3", "s_client on submissions: implicit TLS 1.3", out[-1500:])
rc, out = s_client(SUBS, ["-quiet", "-noservername"])
t.ok(re.search(r"(?m)^220 ", out), "submissions: 220 greeting arrives inside TLS", out[-1500:])

# ---- TLS 1.0 / 1.1 refused (the refusal is tern's, not the client's) -------
# Control: the same s_client options complete a TLS 1.0 / 1.1 handshake
# against a private openssl s_server, so a failure against tern is tern's.
ctl_port = srv.ports(5)
ctl = spawn(["openssl", "s_server", "-accept", "127.0.0.1:%d" % ctl_port, "-cert", cert,
             "-key", key, "-cipher", "DEFAULT@SECLEVEL=0", "-quiet"],
            os.path.join(srv.dir, "s_server.log"))
wait_port("127.0.0.1", ctl_port, 10, ctl)
ctl_ok = {}
for flag in ("-tls1", "-tls1_1"):
    rc, out = s_client(ctl_port, [flag, "-cipher", "DEFAULT@SECLEVEL=0", "-brief"], stdin=b"")
    ctl_ok[flag] = brief(out, "Protocol version")
t.diag("control s_server handshakes: %r" % ctl_ok)
ctl.kill()
for flag, name in (("-tls1", "TLSv1"), ("-tls1_1", "TLSv1.1")):
    control = ctl_ok.get(flag) == name
    for port, where, extra in ((SUB, "submission STARTTLS", ["-starttls", "smtp", "-name", "client.test"]),
                               (MX, "mx STARTTLS", ["-starttls", "smtp", "-name", "client.test"]),
                               (SUBS, "submissions", [])):
        rc, out = s_client(port, extra + [flag, "-cipher", "DEFAULT@SECLEVEL=0", "-brief"])
        refused = rc != 0 and brief(out, "Protocol version") is None
        if control:
            t.ok(refused, "%s: %s handshake refused by tern" % (where, name), out[-800:])
        else:
            t.ok(refused, "%s: %s handshake fails (control s_server could not do %s either)"
                 % (where, name, name), out[-800:])
for maxv, name in ((ssl.TLSVersion.TLSv1, "TLSv1"), (ssl.TLSVersion.TLSv1_1, "TLSv1.1")):
    try:
        ctx = tls_ctx(minv=ssl.TLSVersion.MINIMUM_SUPPORTED, maxv=maxv)
        ctx.set_ciphers("DEFAULT@SECLEVEL=0")
        s = smtplib.SMTP_SSL("127.0.0.1", SUBS, local_hostname="client.test", timeout=15, context=ctx)
        s.close()
        t.ok(False, "python ssl with max %s to submissions fails" % name)
    except (ssl.SSLError, OSError, smtplib.SMTPException) as e:
        t.ok(True, "python ssl with max %s to submissions fails (%s)" % (name, type(e).__name__))

# plaintext SMTP to the implicit-TLS port: no greeting, closed, tern unharmed
import socket
try:
    with socket.create_connection(("127.0.0.1", SUBS), timeout=10) as raw:
        raw.sendall(b"EHLO client.test\r\n")
        got = b""
        while True:
            d = raw.recv(4096)
            if not d:
                break
            got += d
    t.ok(not got.startswith(b"220") and not got.startswith(b"250"),
         "plaintext EHLO to submissions: no SMTP reply, connection closed", got[:200])
except socket.timeout:
    t.ok(False, "plaintext EHLO to submissions: connection closed within 10 s")
except OSError as e:
    t.ok(True, "plaintext EHLO to submissions: connection reset (%s)" % type(e).__name__)
t.ok(srv.alive() and srv.greets(), "tern still serves after the plaintext client")

# ---- SNI ---------------------------------------------------------------------
for port, where, extra in ((SUB, "submission", ["-starttls", "smtp", "-name", "client.test"]),
                           (SUBS, "submissions", [])):
    cn, rc, out = s_client_cert_cn(port, extra + ["-servername", "mail.other.test"])
    t.eq(cn, "mail.other.test", "%s: SNI mail.other.test gets the [tls other] certificate" % where, out[-800:])
    cn, rc, out = s_client_cert_cn(port, extra + ["-noservername"])
    t.eq(cn, "mx.test.example", "%s: no SNI gets the default certificate" % where, out[-800:])
    cn, rc, out = s_client_cert_cn(port, extra + ["-servername", "unknown.other.test"])
    t.eq(cn, "mx.test.example", "%s: unknown SNI gets the default certificate" % where, out[-800:])
# python verifies both certificates by name
for name, ca in (("mx.test.example", cert), ("mail.other.test", ocert)):
    try:
        with smtplib.SMTP_SSL("127.0.0.1", SUBS, local_hostname="client.test", timeout=15,
                              context=tls_ctx(cafile=ca)) as s:
            s._host = name
        ok = True
    except Exception as e:
        ok = e
    # SMTP_SSL uses the connect host as server_hostname: do it by hand
    import socket
    try:
        raw = socket.create_connection(("127.0.0.1", SUBS), timeout=15)
        ts = tls_ctx(cafile=ca).wrap_socket(raw, server_hostname=name)
        ok = ts.version()
        ts.close()
    except Exception as e:
        ok = repr(e)
    t.ok(ok in ("TLSv1.3", "TLSv1.2"), "certificate for %s verifies with SNI %s" % (name, name), ok)

# ---- EHLO before / after TLS; AUTH on the roles -----------------------------
s = submission(SUB, starttls=False)
t.ok(s.has_extn("starttls"), "submission EHLO before TLS offers STARTTLS", s.esmtp_features)
t.ok(not s.has_extn("auth"), "submission EHLO before TLS does not offer AUTH", s.esmtp_features)
t.reply(s.docmd("AUTH", "PLAIN " + plain_token("alice@example.test", PW)), 538, "5.7.11",
        "AUTH before TLS on submission: 538 5.7.11")
t.reply(s.mail("alice@example.test"), 530, "5.7.0", "MAIL before AUTH on submission: 530 5.7.0")
s.starttls(context=tls_ctx())
t.reply(s.ehlo(), 250, None, "EHLO again after STARTTLS: 250")
t.ok(s.has_extn("auth"), "submission EHLO after TLS offers AUTH", s.esmtp_features)
mechs = set(s.esmtp_features.get("auth", "").upper().split())
t.ok({"PLAIN", "LOGIN"} <= mechs, "AUTH lists PLAIN and LOGIN", mechs)
t.ok(not s.has_extn("starttls"), "EHLO after TLS no longer offers STARTTLS", s.esmtp_features)
t.eq(s.sock.version(), "TLSv1.3", "smtplib starttls() negotiates TLSv1.3")
try:
    r = s.login("alice@example.test", PW)
except smtplib.SMTPException as e:
    r = (getattr(e, "smtp_code", -1), str(e))
t.reply(r, 235, "2.7.0", "smtplib login() after starttls(): 235 2.7.0")
mid_sub = "<t11-sub-%d@test.example>" % os.getpid()
t.eq(s.sendmail("alice@example.test", ["bob@example.test"],
                message("alice@example.test", "bob@example.test", "sub", msgid=mid_sub)), {},
     "authenticated submission to bob accepted")
s.quit()

with Raw("127.0.0.1", MX) as c:
    code, text = c.cmd("EHLO client.test")
    t.ok(code == 250 and re.search(r"(?m)^STARTTLS$", text, re.I), "mx EHLO offers STARTTLS", text)
    t.ok(not re.search(r"(?mi)^AUTH\b", text), "mx EHLO does not offer AUTH", text)
    t.reply(c.cmd("AUTH PLAIN " + plain_token("alice@example.test", PW)), 502, "5.5.1",
            "AUTH on mx before TLS: 502 5.5.1")
s = smtplib.SMTP("127.0.0.1", MX, local_hostname="client.test", timeout=20)
s.starttls(context=tls_ctx())
s.ehlo()
t.ok(not s.has_extn("auth"), "mx EHLO after TLS does not offer AUTH", s.esmtp_features)
t.reply(s.docmd("AUTH", "PLAIN " + plain_token("alice@example.test", PW)), 502, "5.5.1",
        "AUTH on mx after TLS: 502 5.5.1")
t.reply(s.mail("someone@remote.example"), 250, "2.1.0", "mx after TLS: MAIL from a stranger 250")
t.reply(s.rcpt("other@remote.example"), 550, "5.7.1", "mx after TLS, no AUTH: relay still denied 550 5.7.1")
mid_mx = "<t11-mx-%d@test.example>" % os.getpid()
s.rset()
t.eq(s.sendmail("someone@remote.example", ["alice@example.test"],
                message("someone@remote.example", "alice@example.test", "mx", msgid=mid_mx)), {},
     "mx over STARTTLS: message to alice accepted")
s.quit()

# implicit TLS with smtplib
s = submissions(SUBS)
t.ok(s.has_extn("auth") and not s.has_extn("starttls"),
     "submissions EHLO offers AUTH and not STARTTLS", s.esmtp_features)
t.reply(s.docmd("AUTH", "PLAIN " + plain_token("bob@example.test", "bob-pw-11")), 235, "2.7.0",
        "submissions: AUTH PLAIN with initial response 235")
mid_subs = "<t11-subs-%d@test.example>" % os.getpid()
t.eq(s.sendmail("bob@example.test", ["alice@example.test"],
                message("bob@example.test", "alice@example.test", "subs", msgid=mid_subs)), {},
     "submissions: message to alice accepted")
s.quit()

# ---- swaks ------------------------------------------------------------------
def swaks(port, mode, mech, user, pw, to, tag):
    argv = ["swaks", "--server", "127.0.0.1", "--port", str(port), mode,
            "--helo", "client.test", "--from", user, "--to", to,
            "--auth", mech, "--auth-user", user, "--auth-password", pw,
            "--header", "Message-Id: <%s>" % tag, "--timeout", "20"]
    try:
        r = subprocess.run(argv, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        return r.returncode, (r.stdout + r.stderr).decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return -1, "timeout"

swaks_ids = []
for port, mode, where in ((SUB, "--tls", "submission --tls"), (SUBS, "--tlsc", "submissions --tlsc")):
    for mech in ("PLAIN", "LOGIN"):
        tag = "t11-swaks-%s-%s-%d@test.example" % (mode.strip("-"), mech, os.getpid())
        rc, out = swaks(port, mode, mech, "alice@example.test", PW, "bob@example.test", tag)
        good = rc == 0 and re.search(r"(?m)^<~ +235 ", out) and re.search(r"(?m)^<~ +250 .*", out)
        t.ok(good, "swaks %s --auth %s: 235 and the message accepted over TLS" % (where, mech), out[-1500:])
        swaks_ids.append("<%s>" % tag)
        rc, out = swaks(port, mode, mech, "alice@example.test", "wrong-" + PW, "bob@example.test", tag + "x")
        t.ok(rc != 0 and re.search(r"(?m)^<~\*? +535 5\.7\.8", out),
             "swaks %s --auth %s with a wrong password: 535 5.7.8" % (where, mech), out[-1500:])
# swaks without TLS on submission cannot authenticate
r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(SUB), "--helo", "client.test",
                    "--from", "alice@example.test", "--to", "bob@example.test",
                    "--auth", "PLAIN", "--auth-user", "alice@example.test", "--auth-password", PW,
                    "--timeout", "20"], capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
out = (r.stdout + r.stderr).decode("utf-8", "replace")
t.ok(r.returncode != 0 and "235 " not in out, "swaks on submission without --tls: no AUTH (not advertised)", out[-1200:])

# ---- Received headers -------------------------------------------------------
def find(domain, user, mid):
    def probe():
        return [m for m in srv.read_messages(domain, user) if header(m, "Message-ID") == mid]
    got = wait_until(probe, 15)
    return got[0] if got else b""

def received(m):
    head = m.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    mm = re.search(r"(?ms)^Received:.*?(?=^\S)", head + "\nX:")
    return re.sub(r"\s+", " ", mm.group(0)) if mm else ""

rx = received(find("example.test", "bob", mid_sub))
t.ok(re.search(r"\bwith ESMTPSA\b", rx), "submission+STARTTLS+AUTH: Received says with ESMTPSA", rx)
t.ok(re.search(r"\(TLSv1\.3 TLS_AES_\d+_GCM_SHA\d+ \d+ bits\)|\(TLSv1\.3 TLS_CHACHA20_POLY1305_SHA256 256 bits\)", rx),
     "Received names TLSv1.3, the cipher and its bits", rx)
rx = received(find("example.test", "alice", mid_mx))
t.ok(re.search(r"\bwith ESMTPS\b", rx) and not re.search(r"ESMTPSA", rx),
     "mx+STARTTLS without AUTH: Received says with ESMTPS", rx)
t.ok(re.search(r"\(TLSv1\.[23] ", rx), "mx+STARTTLS: Received names the TLS version", rx)
rx = received(find("example.test", "alice", mid_subs))
t.ok(re.search(r"\bwith ESMTPSA\b", rx) and re.search(r"\(TLSv1\.3 ", rx),
     "submissions (implicit TLS) + AUTH: Received says ESMTPSA and TLSv1.3", rx)
for sid in swaks_ids:
    m = find("example.test", "bob", sid)
    t.ok(m and re.search(r"\bwith ESMTPSA\b", received(m)), "swaks message %s delivered, Received ESMTPSA" % sid,
         received(m) if m else "not delivered")
# a TLS 1.2 session says TLSv1.2
ctx = tls_ctx(maxv=ssl.TLSVersion.TLSv1_2)
s = smtplib.SMTP("127.0.0.1", SUB, local_hostname="client.test", timeout=20)
s.starttls(context=ctx)
s.ehlo()
s.login("alice@example.test", PW)
mid12 = "<t11-tls12-%d@test.example>" % os.getpid()
s.sendmail("alice@example.test", ["bob@example.test"],
           message("alice@example.test", "bob@example.test", "tls12", msgid=mid12))
s.quit()
rx = received(find("example.test", "bob", mid12))
t.ok(re.search(r"\bwith ESMTPSA\b", rx) and re.search(r"\(TLSv1\.2 \S+ \d+ bits\)", rx),
     "TLS 1.2 session: Received says ESMTPSA (TLSv1.2 <cipher> <n> bits)", rx)

log = srv.log()
t.ok(PW not in log and "bob-pw-11" not in log, "no password in tern's log")
t.eq(srv.stop(15), 0, "SIGTERM: exit 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
