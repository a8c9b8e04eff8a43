#!/usr/bin/env bash
# t12_starttls_injection: plaintext commands pipelined after STARTTLS in
# the same write (CVE-2011-0411 style) are discarded, never executed
# inside the TLS session: no stray reply before or after the handshake,
# the first reply inside TLS is the EHLO reply, an injected MAIL leaves
# no transaction (RCPT gets 503), an injected AUTH leaves the session
# unauthenticated (MAIL gets 530), an injected whole message is never
# delivered.  Checked on the mx and the submission listener.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern

"$PY" - <<'PYEOF'
import os, re, socket, ssl, time
from tern import Tap, Raw, sha512_crypt, wait_until
from submission import TernTLS, make_cert, tls_ctx, plain_token

t = Tap()
srv = TernTLS(12, "tern")
cert, key = make_cert(srv.dir, "default", "mx.test.example")
srv.tls(cert, key)
SUB = srv.listen("sub", 1, "submission")
MX = srv.port
PW = "Inject-Secret-12"
srv.domain("example.test", users=["alice", "bob"], passwords={"alice": sha512_crypt(PW)})
if not t.ok(srv.start(), "tern starts"):
    t.done()
TOKEN = plain_token("alice@example.test", PW)

def stray(c, wait=0.5):
    """Bytes the server sends within wait seconds without being asked."""
    c.sock.settimeout(wait)
    got = c.buf
    c.buf = b""
    try:
        while True:
            d = c.sock.recv(65536)
            if not d:
                break
            got += d
    except (socket.timeout, ssl.SSLWantReadError):
        pass
    except OSError:
        pass   # reset: nothing more will come
    c.sock.settimeout(15)
    return got

def inject(port, payload, label):
    """EHLO + STARTTLS + payload in one write; returns the Raw client now
    inside TLS (or None if the handshake failed)."""
    c = Raw("127.0.0.1", port)
    c.send(b"EHLO client.test\r\nSTARTTLS\r\n" + payload)
    ehlo = c.reply()
    st = c.reply()
    t.ok(ehlo[0] == 250 and st[0] == 220, "%s: EHLO 250 and STARTTLS 220 (plaintext)" % label,
         (ehlo, st))
    extra = stray(c)
    t.eq(extra, b"", "%s: no plaintext reply to the injected commands" % label)
    try:
        c.sock = tls_ctx().wrap_socket(c.sock)
    except (ssl.SSLError, OSError) as e:
        t.ok(False, "%s: TLS handshake after STARTTLS" % label, repr(e))
        c.close()
        return None
    t.ok(True, "%s: TLS handshake after STARTTLS (%s)" % (label, c.sock.version()))
    early = stray(c)
    t.eq(early, b"", "%s: nothing arrives inside TLS before the client speaks" % label)
    code, text = c.cmd("EHLO client.test")
    t.ok(code == 250 and text.startswith("mx.test.example"),
         "%s: first reply inside TLS is the EHLO reply" % label, (code, text))
    return c

# ---- mx: injected MAIL FROM ---------------------------------------------------
c = inject(MX, b"MAIL FROM:<injected@evil.example>\r\n", "mx MAIL")
if c:
    t.reply(c.cmd("RCPT TO:<alice@example.test>"), 503, "5.5.1",
            "mx: RCPT after TLS gets 503 (the injected MAIL did not run)")
    t.reply(c.cmd("NOOP"), 250, "2.0.0", "mx: NOOP 250")
    t.eq(stray(c), b"", "mx: exactly one reply per command inside TLS")
    c.close()

# ---- mx: injected NOOP/RSET markers, counted ------------------------------------
c = inject(MX, b"NOOP marker-1\r\nRSET\r\nNOOP marker-2\r\n", "mx NOOP x3")
if c:
    t.reply(c.cmd("NOOP"), 250, "2.0.0", "mx: NOOP after TLS 250")
    t.eq(stray(c), b"", "mx: no replies for the three injected commands")
    c.close()

# ---- mx: an injected whole transaction is not delivered --------------------------
mid = "<t12-injected-%d@test.example>" % os.getpid()
payload = ("MAIL FROM:<injected@evil.example>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
           "Subject: injected\r\nMessage-ID: %s\r\n\r\nevil\r\n.\r\n" % mid).encode()
c = inject(MX, payload, "mx transaction")
if c:
    t.reply(c.cmd("DATA"), 503, "5.5.1", "mx: DATA after TLS gets 503 (no injected recipients)")
    t.reply(c.cmd("QUIT"), 221, "2.0.0", "mx: QUIT 221")
    c.close()
time.sleep(1.0)
t.eq([p for p in srv.all_maildir_files() if mid.encode() in open(p, "rb").read()], [],
     "mx: the injected message was not delivered")
t.eq(srv.queue_ids(), [], "mx: nothing in the spool queue")
t.ok("injected@evil.example" not in srv.log(), "log never shows the injected sender",
     [l for l in srv.log().splitlines() if "injected" in l])

# ---- submission: injected AUTH --------------------------------------------------
c = inject(SUB, b"AUTH PLAIN " + TOKEN.encode() + b"\r\nMAIL FROM:<alice@example.test>\r\n",
           "submission AUTH")
if c:
    t.reply(c.cmd("MAIL FROM:<alice@example.test>"), 530, "5.7.0",
            "submission: MAIL after TLS gets 530 (the injected AUTH did not run)")
    t.reply(c.cmd("AUTH PLAIN " + TOKEN), 235, "2.7.0",
            "submission: AUTH inside TLS 235 (first AUTH of the session)")
    t.reply(c.cmd("MAIL FROM:<alice@example.test>"), 250, "2.1.0", "submission: MAIL after AUTH 250")
    t.eq(stray(c), b"", "submission: exactly one reply per command inside TLS")
    c.close()
auth_ok = re.findall(r"smtp auth ok", srv.log())
t.eq(len(auth_ok), 1, "log: exactly one 'smtp auth ok' (the one inside TLS)", srv.log()[-2000:])

# ---- STARTTLS and the injected command in two quick writes ----------------------
# Whether the second write reaches tern before or after it switched to TLS,
# the NOOP must never get a reply: either the handshake fails (the bytes
# were taken as a TLS record) or the session has no trace of it.
c = Raw("127.0.0.1", MX)
c.cmd("EHLO client.test")
c.send(b"STARTTLS\r\n")
c.send(b"NOOP split-marker\r\n")
st = c.reply()
t.eq(st[0], 220, "split write: STARTTLS 220")
t.eq(stray(c), b"", "split write: no plaintext reply to the NOOP")
try:
    c.sock = tls_ctx().wrap_socket(c.sock)
    code, text = c.cmd("EHLO client.test")
    t.ok(code == 250 and text.startswith("mx.test.example") and stray(c) == b"",
         "split write: handshake done, first reply is EHLO's, nothing extra", (code, text))
except (ssl.SSLError, OSError, EOFError) as e:
    t.ok(True, "split write: handshake refused (%s), the NOOP never ran" % type(e).__name__)
c.close()

# ---- control: the same session without injection works ---------------------------
c = Raw("127.0.0.1", SUB)
c.cmd("EHLO client.test")
t.reply(c.cmd("STARTTLS"), 220, "2.0.0", "control: STARTTLS 220 2.0.0")
c.sock = tls_ctx().wrap_socket(c.sock)
c.send(b"EHLO client.test\r\nNOOP\r\n")   # pipelining inside TLS is fine
r1, r2 = c.reply(), c.reply()
t.ok(r1[0] == 250 and "AUTH" in r1[1] and r2[0] == 250, "control: pipelined EHLO+NOOP inside TLS answered",
     (r1, r2))
t.reply(c.cmd("STARTTLS"), 503, "5.5.1", "STARTTLS inside TLS: 503 5.5.1")
c.close()

t.ok(srv.alive(), "tern still running")
t.eq(srv.stop(15), 0, "SIGTERM: exit 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
