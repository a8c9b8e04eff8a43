#!/usr/bin/env bash
# t03_swaks: swaks (a real, independent SMTP client) sends to tern: plain,
# with --pipeline to two recipients, an 8-bit body (and BODY=8BITMIME), a
# body with dot lines, SMTPUTF8 (swaks has no option for it, so raw), and a
# relay attempt that swaks must see refused.  Asserts delivery and bytes.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern
require_cmd swaks

"$PY" - <<'PYEOF'
import os, re, time
from tern import Tap, Tern, Raw, run, header, wait_until, split_delivered

t = Tap()
srv = Tern(3, "swaks")
srv.domain("example.test", users=["alice", "bob"])
if not t.ok(srv.start(), "tern starts"):
    t.done()
server = "%s:%d" % (srv.host, srv.port)
n = [0]

def swaks(*args, mid=None):
    n[0] += 1
    mid = mid or "<t03-%d-%d@test.example>" % (n[0], os.getpid())
    argv = ["swaks", "--server", server, "--from", "sender@remote.example",
            "--helo", "client.test", "--timeout", "20"] + list(args)
    if "--data" not in args:
        argv += ["--header", "Message-Id: " + mid]
    rc, out, err = run(argv, timeout=60)
    return rc, out + err, mid

def box(user, mid, want=1, timeout=15):
    def probe():
        ms = [m for m in srv.read_messages("example.test", user) if header(m, "Message-ID") == mid]
        return ms if len(ms) >= want else None
    return wait_until(probe, timeout) or []

rc, out, mid = swaks("--to", "alice@example.test", "--body", "plain swaks body")
t.ok(rc == 0, "swaks plain: exit 0", out[-1500:])
got = box("alice", mid)
t.ok(len(got) == 1 and b"plain swaks body" in got[0], "swaks plain: delivered to alice", got)

rc, out, mid = swaks("--pipeline", "--to", "alice@example.test,bob@example.test",
                     "--body", "pipelined swaks body")
t.ok(rc == 0, "swaks --pipeline: exit 0", out[-1500:])
t.ok(re.search(r"-> MAIL FROM.*\n\s*-> RCPT TO.*\n\s*-> RCPT TO", out),
     "swaks really pipelined MAIL/RCPT/RCPT", out[-1500:])
t.eq(len(box("alice", mid)), 1, "swaks --pipeline: delivered to alice")
t.eq(len(box("bob", mid)), 1, "swaks --pipeline: delivered to bob")

# 8-bit body, sent as --data so the bytes are exactly ours
mid = "<t03-8bit-%d@test.example>" % os.getpid()
body8 = "Grüße, café, 日本語, naïve\r\nsecond line \xa0 nbsp\r\n".encode("utf-8")
data = (b"From: <sender@remote.example>\r\nTo: <bob@example.test>\r\nSubject: 8bit\r\n"
        b"Message-ID: " + mid.encode() + b"\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body8)
p = os.path.join(srv.dir, "8bit.eml")
with open(p, "wb") as f:
    f.write(data[:-2])   # swaks adds CRLF before the final dot
rc, out, _ = swaks("--to", "bob@example.test", "--data", "@" + p)
t.ok(rc == 0, "swaks 8-bit body: exit 0", out[-1500:])
got = box("bob", mid)
if t.eq(len(got), 1, "swaks 8-bit body: delivered"):
    t.eq(split_delivered(got[0])[1], data.replace(b"\r\n", b"\n"), "8-bit body bytes intact")

# dot lines: swaks dot-stuffs, tern must unstuff
mid = "<t03-dots-%d@test.example>" % os.getpid()
dots = (b"From: <sender@remote.example>\r\nSubject: dots\r\nMessage-ID: " + mid.encode() +
        b"\r\n\r\n.\r\n..\r\n.x\r\n . \r\nend\r\n")
p = os.path.join(srv.dir, "dots.eml")
with open(p, "wb") as f:
    f.write(dots[:-2])
rc, out, _ = swaks("--to", "alice@example.test", "--data", "@" + p)
t.ok(rc == 0, "swaks dot lines: exit 0", out[-1500:])
got = box("alice", mid)
if t.eq(len(got), 1, "swaks dot lines: delivered"):
    t.eq(split_delivered(got[0])[1], dots.replace(b"\r\n", b"\n"), "dot lines unstuffed exactly")

# relay attempt: swaks must report the refusal
rc, out, _ = swaks("--to", "victim@remote.example", "--body", "relay?")
t.ok(rc != 0 and re.search(r"<\*\* +550 5\.7\.1", out), "swaks relay attempt refused 550 5.7.1",
     out[-1500:])

# BODY=8BITMIME and SMTPUTF8 (raw; this swaks has no options for them)
with Raw(srv.host, srv.port) as c:
    code, text = c.cmd("EHLO client.test")
    t.ok(code == 250 and "8BITMIME" in text, "EHLO advertises 8BITMIME", text)
    t.ok("SMTPUTF8" in text, "EHLO advertises SMTPUTF8", text)
    t.reply(c.cmd("MAIL FROM:<sender@remote.example> BODY=8BITMIME"), 250, "2.1.0",
            "MAIL BODY=8BITMIME 250")
    t.reply(c.cmd("RCPT TO:<bob@example.test>"), 250, "2.1.5", "RCPT after BODY=8BITMIME")
    c.cmd("RSET")
    sender = "jörg@münchen.example"
    t.reply(c.cmd("MAIL FROM:<%s> SMTPUTF8" % sender), 250, "2.1.0", "MAIL with UTF-8 address and SMTPUTF8 250")
    t.reply(c.cmd("RCPT TO:<alice@example.test>"), 250, "2.1.5", "RCPT after SMTPUTF8")
    t.eq(c.cmd("DATA")[0], 354, "DATA 354")
    mid = "<t03-utf8-%d@test.example>" % os.getpid()
    c.send(("From: Jörg <%s>\r\nSubject: Grüße\r\nMessage-ID: %s\r\n\r\nutf8 body\r\n.\r\n"
            % (sender, mid)).encode())
    t.reply(c.reply(), 250, "2.0.0", "SMTPUTF8 message: 250 2.0.0")
got = box("alice", mid)
if t.eq(len(got), 1, "SMTPUTF8 message delivered"):
    t.ok(got[0].startswith(("Return-Path: <%s>\n" % sender).encode()),
         "SMTPUTF8 Return-Path keeps the UTF-8 address", got[0][:120])

t.eq(srv.stop(15), 0, "SIGTERM: exit 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
