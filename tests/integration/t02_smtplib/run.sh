#!/usr/bin/env bash
# t02_smtplib: Python smtplib against tern's mx listener.  Delivery into
# Maildir (Return-Path, Delivered-To, Received, LF line endings, body
# intact), relay denied (550 5.7.1), unknown user (550 5.1.1), catch-all,
# postmaster, case-insensitive addresses, +detail, aliases, one copy per
# mailbox, a remote alias target kept in the spool, SIZE (552 5.3.4),
# max_recipients (452 4.5.3), NOOP/RSET/VRFY/HELP and sequencing replies
# with enhanced status codes, log lines, clean SIGTERM exit.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern

"$PY" - <<'PYEOF'
import os, re, smtplib, time
from tern import Tap, Tern, Raw, message, header, wait_until, split_delivered

t = Tap()
srv = Tern(2, "smtplib", max_message_size="100K", max_recipients=5)
srv.domain("example.test", users=["alice", "bob", "carol"],
           aliases={"sales": ["alice", "bob"], "team": ["alice", "carol"],
                    "fwd": ["someone@remote.example"]})
srv.domain("other.test", users=["dave"], catch_all="dave")
if not t.ok(srv.start(), "tern starts"):
    t.done()
H, P = srv.host, srv.port
SENDER = "sender@remote.example"
n = [0]

def msgid(tag):
    n[0] += 1
    return "<t02-%s-%d-%d@test.example>" % (tag, n[0], os.getpid())

def send(rcpts, tag, body="Hello from t02.\r\n", sender=SENDER):
    """Sends one message; returns (msgid, raw bytes, refused dict or exc)."""
    mid = msgid(tag)
    data = message(sender, rcpts[0], tag, body=body, msgid=mid)
    try:
        with smtplib.SMTP(H, P, local_hostname="client.test", timeout=20) as s:
            refused = s.sendmail(sender, rcpts, data)
        return mid, data, refused
    except Exception as e:
        return mid, data, e

def in_box(domain, user, mid):
    return [m for m in srv.read_messages(domain, user)
            if header(m, "Message-ID") == mid]

def wait_in_box(domain, user, mid, timeout=15):
    return wait_until(lambda: in_box(domain, user, mid), timeout) or []

# ---- EHLO ----------------------------------------------------------------
with smtplib.SMTP(H, P, local_hostname="client.test", timeout=20) as s:
    code, _ = s.ehlo()
    t.eq(code, 250, "EHLO 250")
    for ext in ("pipelining", "8bitmime", "enhancedstatuscodes", "size"):
        t.ok(s.has_extn(ext), "EHLO advertises " + ext.upper(), s.esmtp_features)
    t.eq(s.esmtp_features.get("size", "").strip(), str(100 * 1024),
         "SIZE advertises max_message_size in bytes")

# ---- plain delivery --------------------------------------------------------
body = "Line one.\r\nLine two with trailing spaces  \r\n.leading dot\r\n\r\nLast.\r\n"
mid, data, refused = send(["alice@example.test"], "plain", body=body)
t.eq(refused, {}, "message to alice accepted")
got = wait_in_box("example.test", "alice", mid)
if t.eq(len(got), 1, "message lands in example.test/alice/new"):
    m = got[0]
    t.ok(m.startswith(b"Return-Path: <%s>\n" % SENDER.encode()),
         "Maildir file starts with Return-Path: <sender>", m[:200])
    t.ok(b"\r" not in m, "Maildir file has LF line endings", m[:300])
    t.ok(re.search(rb"(?mi)^Delivered-To: <?alice@example\.test>?$", m),
         "Delivered-To: alice@example.test", m[:400])
    t.ok(re.search(rb"(?mi)^Received: ", m), "has a Received: header", m[:400])
    t.ok(srv.hostname.encode() in m.split(b"\n\n")[0], "Received names tern's hostname", m[:400])
    head, rest = split_delivered(m)
    t.eq(rest, data.replace(b"\r\n", b"\n"), "original message kept byte for byte (CRLF->LF)")

# ---- relay / unknown user / postmaster / catch-all ------------------------
with smtplib.SMTP(H, P, local_hostname="client.test", timeout=20) as s:
    s.ehlo()
    t.reply(s.mail(SENDER), 250, "2.1.0", "MAIL FROM 250 2.1.0")
    t.reply(s.rcpt("someone@remote.example"), 550, "5.7.1", "relay to unserved domain: 550 5.7.1")
    t.reply(s.rcpt("nobody@example.test"), 550, "5.1.1", "unknown user: 550 5.1.1")
    t.reply(s.rcpt("someone@sub.example.test"), 550, "5.7.1", "subdomain of a served domain is not served")
    t.reply(s.rcpt("bob@example.test"), 250, "2.1.5", "known user: 250 2.1.5")
    s.rset()

mid, _, refused = send(["postmaster@example.test"], "postmaster")
t.eq(refused, {}, "postmaster@example.test accepted (no postmaster in users file)")
got = wait_until(lambda: [p for p in srv.all_maildir_files()
                          if mid.encode() in open(p, "rb").read()], 15)
t.ok(got and "/example.test/" in got[0], "postmaster mail delivered under example.test", got)

mid, _, refused = send(["Whoever.Else@other.test"], "catchall")
t.eq(refused, {}, "catch-all domain accepts any local part")
t.eq(len(wait_in_box("other.test", "dave", mid)), 1, "catch-all delivers to dave")

# ---- case, +detail ---------------------------------------------------------
mid, _, refused = send(["ALICE@EXAMPLE.TEST"], "upper")
t.eq(refused, {}, "ALICE@EXAMPLE.TEST accepted")
t.eq(len(wait_in_box("example.test", "alice", mid)), 1, "upper-case address delivered to alice")
mid, _, refused = send(["Bob@Example.Test"], "mixed")
t.eq(len(wait_in_box("example.test", "bob", mid)), 1, "mixed-case address delivered to bob")
mid, _, refused = send(["alice+news@example.test"], "detail")
t.eq(refused, {}, "alice+news accepted")
t.eq(len(wait_in_box("example.test", "alice", mid)), 1, "alice+news delivered to alice")
t.ok(not os.path.exists(srv.maildir("example.test", "alice+news")), "no Maildir for alice+news")

# ---- aliases, duplicates ---------------------------------------------------
mid, _, refused = send(["sales@example.test"], "alias")
t.eq(refused, {}, "alias sales accepted")
t.eq(len(wait_in_box("example.test", "alice", mid)), 1, "alias sales -> alice")
t.eq(len(wait_in_box("example.test", "bob", mid)), 1, "alias sales -> bob")

mid, _, refused = send(["alice@example.test", "alice@example.test", "ALICE@example.test",
                        "alice+x@example.test", "sales@example.test"], "dups")
t.eq(refused, {}, "duplicate recipients accepted")
wait_in_box("example.test", "bob", mid)
wait_in_box("example.test", "alice", mid)
time.sleep(1.0)  # would a second copy follow?
t.eq(len(in_box("example.test", "alice", mid)), 1, "alice listed 5 ways gets one copy")
t.eq(len(in_box("example.test", "bob", mid)), 1, "bob via alias gets one copy")

mid, _, refused = send(["sales@example.test", "team@example.test"], "twoaliases")
t.eq(len(wait_in_box("example.test", "carol", mid)), 1, "team -> carol")
wait_in_box("example.test", "alice", mid)
time.sleep(0.5)
t.eq(len(in_box("example.test", "alice", mid)), 1, "alice in two aliases gets one copy")

# ---- remote alias target stays in the spool --------------------------------
mid, _, refused = send(["fwd@example.test"], "remote")
t.eq(refused, {}, "alias with a remote target accepted")
def spooled():
    for p in srv.spool_files():
        try:
            if mid.encode() in open(p, "rb").read():
                return p
        except OSError:
            pass
    return None
t.ok(wait_until(spooled, 5), "remote-target message is kept under the spool",
     "\n".join(srv.spool_files()))
time.sleep(0.5)
t.ok(not [p for p in srv.all_maildir_files() if mid.encode() in open(p, "rb").read()],
     "remote-target message is in no Maildir")

# ---- null sender ---------------------------------------------------------
mid = msgid("nullsender")
with smtplib.SMTP(H, P, local_hostname="client.test", timeout=20) as s:
    s.ehlo()
    t.reply(s.mail("<>"), 250, "2.1.0", "MAIL FROM:<> accepted")
    s.rcpt("carol@example.test")
    t.reply(s.data(message("", "carol@example.test", "null", msgid=mid)), 250, "2.0.0",
            "DATA with null sender 250 2.0.0")
got = wait_in_box("example.test", "carol", mid)
t.ok(got and got[0].startswith(b"Return-Path: <>\n"), "null sender: Return-Path: <>",
     got[0][:100] if got else None)

# ---- SIZE and max_recipients ------------------------------------------------
with smtplib.SMTP(H, P, local_hostname="client.test", timeout=20) as s:
    s.ehlo()
    t.reply(s.mail(SENDER, ["SIZE=%d" % (200 * 1024)]), 552, "5.3.4", "SIZE over max at MAIL: 552 5.3.4")
    t.reply(s.mail(SENDER, ["SIZE=1000"]), 250, "2.1.0", "SIZE under max: 250")
    codes = [s.rcpt("alice@example.test")[0] for _ in range(5)]
    t.eq(codes, [250] * 5, "5 recipients (max_recipients) accepted")
    t.reply(s.rcpt("bob@example.test"), 452, "4.5.3", "6th recipient: 452 4.5.3")
    t.reply(s.rset(), 250, "2.0.0", "RSET 250 2.0.0")

mid = msgid("big")
with smtplib.SMTP(H, P, local_hostname="client.test", timeout=20) as s:
    s.ehlo()
    s.mail(SENDER)
    s.rcpt("bob@example.test")
    big = message(SENDER, "bob@example.test", "big", body=("x" * 998 + "\r\n") * 150, msgid=mid)
    t.reply(s.data(big), 552, "5.3.4", "message over max without SIZE: 552 5.3.4 after DATA")
    t.reply(s.noop(), 250, "2.0.0", "session still usable after 552")
time.sleep(0.5)
t.eq(len(in_box("example.test", "bob", mid)), 0, "oversized message not delivered")

# ---- other commands --------------------------------------------------------
enh = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}\b")
with Raw(H, P) as c:
    t.reply(c.cmd("NOOP"), 250, "2.0.0", "NOOP before EHLO: 250 2.0.0")
    code, text = c.cmd("MAIL FROM:<a@remote.example>")
    t.ok(code == 503 and text.startswith("5.5.1"), "MAIL before EHLO: 503 5.5.1", (code, text))
    c.cmd("EHLO client.test")
    code, text = c.cmd("RCPT TO:<alice@example.test>")
    t.ok(code == 503 and text.startswith("5.5.1"), "RCPT before MAIL: 503 5.5.1", (code, text))
    code, text = c.cmd("DATA")
    t.ok(code == 503 and text.startswith("5.5.1"), "DATA before RCPT: 503 5.5.1", (code, text))
    code, text = c.cmd("VRFY alice@example.test")
    t.ok(code in (250, 252, 502, 550) and enh.match(text), "VRFY: %d with enhanced code" % code, (code, text))
    code, text = c.cmd("HELP")
    t.ok(code in (214, 502) and enh.match(text), "HELP: %d with enhanced code" % code, (code, text))
    code, text = c.cmd("FROBNICATE now")
    t.ok(code == 500 and text.startswith("5.5."), "unknown command: 500 5.5.x", (code, text))
    code, text = c.cmd("MAIL FROM:<no-brackets")
    t.ok(code == 501 and text.startswith("5.5.") or code == 501 and text.startswith("5.1."),
         "bad MAIL syntax: 501", (code, text))
    t.reply(c.cmd("RSET"), 250, "2.0.0", "RSET 250 2.0.0")
    code, text = c.cmd("QUIT")
    t.ok(code == 221 and text.startswith("2.0.0"), "QUIT 221 2.0.0", (code, text))
    t.ok(c.closed_by_peer(5), "server closes after QUIT")

# ---- log ---------------------------------------------------------------------
mid = msgid("logged")
with smtplib.SMTP(H, P, local_hostname="client.test", timeout=20) as s:
    s.ehlo()
    s.mail(SENDER)
    s.rcpt("bob@example.test")
    code, text = s.data(message(SENDER, "bob@example.test", "logged", msgid=mid))
wait_in_box("example.test", "bob", mid)
qid = re.findall(r"\b[0-9A-Fa-f]{8,}\b", text.decode("utf-8", "replace"))
t.ok(code == 250 and qid, "250 after DATA names the message id", text)
qid = qid[-1] if qid else "no-id"
def logged(pat):
    return re.search(r"(?m)^.*\b" + re.escape(qid) + r"\b.*" + pat + r".*$", srv.log())
t.ok(wait_until(lambda: logged(r"status=sent"), 5),
     "log: delivery line with the message id and status=sent", srv.log()[-1500:])
t.ok(logged(r"bob@example\.test"), "log: a line with the message id names the recipient")
t.ok(logged(re.escape(SENDER)), "log: a line with the message id names the sender")
log = srv.log()
t.ok(re.search(r"connect", log), "log has connect lines", log[-2000:])
t.ok(re.search(r"status=sent", log), "log has delivery lines with status=sent", log[-2000:])
t.ok(re.search(r"disconnect", log), "log has disconnect lines", log[-2000:])
t.ok(re.search(r"(?i)alice@example\.test", log), "log names the recipient", log[-2000:])

def queued():
    return sorted(n for n in os.listdir(os.path.join(srv.spool, "queue")) if not n.endswith(".st"))
wait_until(lambda: len(queued()) <= 1, 10)
t.eq(len(queued()), 1, "spool queue/ holds only the remote-target message", queued())
t.eq(srv.stop(15), 0, "SIGTERM: exit 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
