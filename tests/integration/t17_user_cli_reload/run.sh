#!/usr/bin/env bash
# t17_user_cli_reload: `tern user add|passwd|del|list` on a users file
# with comments, bare names and extra Dovecot fields (exit codes, list
# output, duplicates and unknown users refused, comments/fields/mode
# kept, nothing left behind), and SIGHUP: a raised user_messages_per_hour
# and a new [domain] take effect for new sessions while an open TLS
# session goes on and delivers; a broken config is refused (`reload
# refused`) and the old one keeps serving; a replaced certificate is seen
# by the next handshake; a reload keeps the per-user counts and the
# failed-login blocks.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern
require_cmd openssl

"$PY" - <<'PYEOF'
import os, re, shutil, stat, time
from tern import Tap, Raw, sha512_crypt, message, header, wait_until, run
from submission import TernTLS, make_cert, RawTLS, plain_token, s_client_cert_cn

t = Tap()

# ==== tern user on a temp config ===================================================
d = os.path.join(os.environ["TERN_TEST_DIR"], "cli")
os.makedirs(d)
users = os.path.join(d, "example.test.users")
conf = os.path.join(d, "tern.conf")
with open(conf, "w") as f:
    f.write("[server]\nspool = %s/spool\nmailroot = %s/mail\n\n[listen mx]\naddress = 127.0.0.1:%d\n\n"
            "[domain example.test]\nusers = %s\n\n[domain nousers.test]\n"
            % (d, d, 21000 + 17 * 20 + 19, users))
alice_hash = sha512_crypt("alice-pw")
original = ("# users of example.test\n"
            "\n"
            "alice:%s::::::userdb_quota_rule=*:storage=1G\n"
            "shared\n"
            "# keep this comment\n"
            "bob@example.test:{PLAIN}bob-pw:1000:1000::/home/bob::\n" % alice_hash)
with open(users, "w") as f:
    f.write(original)
os.chmod(users, 0o640)

def tu(*args, stdin=None):
    return run([os.environ["TERN_BIN"], "user"] + list(args) + ["-c", conf], input=stdin)

rc, out, err = tu("list", "example.test")
t.eq(rc, 0, "user list: exit 0", err)
t.eq(out.splitlines(), ["alice SHA512-CRYPT", "shared (no login)", "bob@example.test PLAIN"],
     "user list: one line per user with the scheme, '(no login)' for a bare name")
rc, out, err = tu("add", "example.test", "carol", "--password-stdin", stdin=b"carol-pw\n")
t.ok(rc == 0 and "add carol@example.test: done" in out, "user add carol: exit 0, 'done'", (rc, out, err))
rc, out, err = tu("add", "example.test", "carol", "--password-stdin", stdin=b"other\n")
t.ok(rc == 1 and "exists" in err, "user add carol again: exit 1, 'user exists'", (rc, out, err))
rc, out, err = tu("add", "example.test", "ALICE", "--password-stdin", stdin=b"other\n")
t.ok(rc != 0, "user add ALICE (alice exists): refused", (rc, out, err))
rc, out, err = tu("del", "example.test", "nosuch")
t.ok(rc == 1 and "no such user" in err, "user del of an unknown user: exit 1", (rc, out, err))
rc, out, err = tu("passwd", "example.test", "nosuch", "--password-stdin", stdin=b"x\n")
t.ok(rc == 1 and "no such user" in err, "user passwd of an unknown user: exit 1", (rc, out, err))
rc, out, err = tu("add", "other.test", "x", "--password-stdin", stdin=b"x\n")
t.ok(rc == 1 and "not a domain" in err, "user add in an unserved domain: exit 1", (rc, out, err))
rc, out, err = tu("add", "nousers.test", "x", "--password-stdin", stdin=b"x\n")
t.ok(rc == 1 and "no users file" in err, "user add in a domain without users file: exit 1", (rc, out, err))
rc, out, err = tu("add", "example.test", "a/b", "--password-stdin", stdin=b"x\n")
t.ok(rc == 1 and "invalid name" in err, "user add a/b: invalid name, exit 1", (rc, out, err))
rc, out, err = tu("add", "example.test", "eve", "--password-stdin", stdin=b"")
t.ok(rc == 1, "user add with no password on stdin: exit 1", (rc, out, err))
rc, out, err = tu("add", "example.test", "eve", "--password-stdin", stdin=b"\n")
t.ok(rc == 1, "user add with an empty password: exit 1", (rc, out, err))
rc, out, err = run([os.environ["TERN_BIN"], "user"])
t.ok(rc == 2 and "usage" in err, "user without a verb: usage, exit 2", (rc, out, err))
rc, out, err = tu("frob", "example.test")
t.ok(rc == 2 and "usage" in err, "user frob: usage, exit 2", (rc, out, err))
rc, out, err = tu("passwd", "example.test", "shared", "--password-stdin", stdin=b"shared-pw\n")
t.eq(rc, 0, "user passwd for a bare name (mailbox without login) gives it a password", err)
rc, out, err = tu("passwd", "example.test", "carol", "--password-stdin", stdin=b"carol-pw-2\n")
t.eq(rc, 0, "user passwd carol: exit 0", err)
rc, out, err = tu("list", "example.test")
t.eq(out.splitlines(), ["alice SHA512-CRYPT", "shared SHA512-CRYPT", "bob@example.test PLAIN",
                        "carol SHA512-CRYPT"], "user list after add and passwd", err)
text = open(users).read()
lines = text.splitlines()
t.ok(lines[:3] == original.splitlines()[:3], "comment, blank line and alice's line with extra fields unchanged",
     text)
t.ok("# keep this comment" in lines and "bob@example.test:{PLAIN}bob-pw:1000:1000::/home/bob::" in lines,
     "other comments and unknown fields kept", text)
m = re.search(r"(?m)^carol:(\{SHA512-CRYPT\}\S+)$", text)
rc2, o2, e2 = run(["doveadm", "pw", "-t", m.group(1), "-p", "carol-pw-2"]) if m and shutil.which("doveadm") else (1, "", "")
t.ok(m and rc2 == 0, "carol's new hash is {SHA512-CRYPT} of the new password", text)
t.eq(stat.S_IMODE(os.stat(users).st_mode), 0o640, "users file keeps its mode 0640")
t.eq(sorted(os.listdir(d)), sorted(["tern.conf", "example.test.users"]), "no temp files left next to the users file")
rc, out, err = tu("del", "example.test", "carol")
t.eq(rc, 0, "user del carol: exit 0", err)
t.ok("carol" not in open(users).read(), "carol's line is gone")
rc, out, err = run([os.environ["TERN_BIN"], "check-config", "-c", conf])
t.eq(rc, 0, "check-config accepts the edited users file", err)
# The users file format allows name@domain (docs/config.md); `tern user`
# must treat bob@example.test as the user bob.
# Once a line says bob@example.test, add must refuse a second bob (the
# file would then be refused: duplicate user), and passwd/del find it.
# such user".
rc, out, err = tu("add", "example.test", "bob", "--password-stdin", stdin=b"bob-pw-2\n")
t.ok(rc == 1 and "exists" in err, "user add bob when the file has bob@example.test: refused as existing",
     (rc, out, err))
rc, out, err = run([os.environ["TERN_BIN"], "check-config", "-c", conf])
t.eq(rc, 0, "... and the users file stays valid", err)
with open(users, "w") as f:
    f.write(original)
rc, out, err = tu("passwd", "example.test", "bob", "--password-stdin", stdin=b"bob-pw-3\n")
t.eq(rc, 0, "user passwd bob finds bob@example.test", err)
with open(users, "w") as f:
    f.write(original)
rc, out, err = tu("del", "example.test", "bob")
t.ok(rc == 0 and "bob" not in open(users).read(), "user del bob removes bob@example.test",
     (rc, out, err, open(users).read()))

# ==== reload ===========================================================================
srv = TernTLS(17, "tern")
certdir = os.path.join(srv.dir, "tls")
os.makedirs(certdir)
cert, key = make_cert(certdir, "cert", "first.test.example")
srv.tls(cert, key)
srv.limits(user_messages_per_hour=2, auth_max_failures=2, auth_block_time="10m")
SUB = srv.listen("sub", 1, "submission")
PW = {u: "%s-Pw-17" % u for u in ("alice", "carol", "dave")}
srv.domain("example.test", users=list(PW) + ["bob"],
           passwords={u: sha512_crypt(p) for u, p in PW.items()})
if not t.ok(srv.start(), "tern starts"):
    t.done()

def reloads(word):
    return len(re.findall(word, srv.log()))

def hup(word="reload done"):
    n = reloads(word)
    srv.hup()
    return wait_until(lambda: reloads(word) > n, 10)

def login(user, source="127.0.0.1"):
    c = RawTLS(SUB, source=source)
    r = c.auth_plain(user + "@example.test", PW[user])
    if r[0] != 235:
        raise RuntimeError("login %s: %r" % (user, r))
    return c

cn, rc, out = s_client_cert_cn(SUB, ["-starttls", "smtp", "-name", "client.test"])
t.eq(cn, "first.test.example", "the first certificate is served")
with Raw("127.0.0.1", srv.port) as c:
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<x@remote.example>")
    t.reply(c.cmd("RCPT TO:<nina@new.test>"), 550, "5.7.1", "before reload: new.test is not served (550 5.7.1)")
c = login("carol")
c.cmd("MAIL FROM:<carol@example.test>")
codes = [c.cmd("RCPT TO:<%s@example.test>" % u)[0] for u in ("alice", "bob", "dave")]
t.eq(codes, [250, 250, 451], "before reload: user_messages_per_hour = 2 (third recipient 451)")
c.close()
# dave uses up 2 failed logins from 127.0.0.9 -> blocked
for pw in ("bad-1", "bad-2"):
    x = RawTLS(SUB, source="127.0.0.9")
    x.auth_plain("dave@example.test", pw)
    x.close()
x = RawTLS(SUB, source="127.0.0.9")
t.reply(x.auth_plain("dave@example.test", PW["dave"]), 421, "4.7.0", "127.0.0.9 is blocked after 2 failures")
x.close()

# an open session across the reload
open_s = login("alice")
t.reply(open_s.cmd("MAIL FROM:<alice@example.test>"), 250, "2.1.0", "open session: MAIL before the reload")
t.reply(open_s.cmd("RCPT TO:<bob@example.test>"), 250, "2.1.5", "open session: RCPT before the reload")

new_users = os.path.join(srv.dir, "new.test.users")
with open(new_users, "w") as f:
    f.write("nina:%s\n" % sha512_crypt("nina-pw"))
conf_v1 = srv.config_text()
srv.limits(user_messages_per_hour=5)
srv.domains.append(("new.test", ["users = " + new_users]))
srv.write_config()
t.ok(hup(), "SIGHUP with raised limit and a new domain: 'reload done' logged", srv.log()[-1000:])
t.ok(srv.alive(), "tern still running after SIGHUP")

t.reply(open_s.cmd("RCPT TO:<dave@example.test>"), 250, "2.1.5", "open session: RCPT after the reload")
t.reply(open_s.cmd("DATA"), 354, None, "open session: DATA 354")
mid = "<t17-across-reload-%d@test.example>" % os.getpid()
open_s.send(message("alice@example.test", "bob@example.test", "across reload", msgid=mid) + b".\r\n")
t.reply(open_s.reply(), 250, "2.0.0", "open session: message accepted after the reload")
t.reply(open_s.cmd("QUIT"), 221, None, "open session: QUIT 221")
open_s.close()
got = wait_until(lambda: [m for m in srv.read_messages("example.test", "dave") if header(m, "Message-ID") == mid], 10)
t.ok(got, "the message sent across the reload is delivered")

with Raw("127.0.0.1", srv.port) as c:
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<x@remote.example>")
    t.reply(c.cmd("RCPT TO:<nina@new.test>"), 250, "2.1.5", "after reload: new.test is served (250)")
x = RawTLS(SUB, source="127.0.0.1")
t.reply(x.auth_plain("nina@new.test", "nina-pw"), 235, "2.7.0", "after reload: a user of the new domain logs in")
x.close()
c = login("dave")
c.cmd("MAIL FROM:<dave@example.test>")
codes = [c.cmd("RCPT TO:<%s@example.test>" % u)[0] for u in ("alice", "bob", "carol", "alice", "bob", "carol")]
t.eq(codes, [250] * 5 + [451], "after reload: user_messages_per_hour = 5 for a new session (6th recipient 451)")
c.close()

# ---- reload keeps counters --------------------------------------------------------------
# A reload (a certificate renewal hook, say) changes limits, never what
# was counted: the hourly counts and the failed-login blocks stay.
t.ok(hup(), "SIGHUP with an unchanged config: reload done")
c = login("dave")
c.cmd("MAIL FROM:<dave@example.test>")
t.reply(c.cmd("RCPT TO:<alice@example.test>"), 451, "4.7.1",
        "a reload keeps dave's hourly count (still 451 after SIGHUP)")
c.close()
x = RawTLS(SUB, source="127.0.0.9")
t.reply(x.auth_plain("dave@example.test", PW["dave"]), 421, "4.7.0",
        "a reload keeps the failed-login block of 127.0.0.9 (still 421 after SIGHUP)")
x.close()

# ---- broken config: refused, old one stays --------------------------------------------
good_conf = open(srv.conf).read()
with open(srv.conf, "a") as f:
    f.write("\n[limits]\nno_such_key = 1\n")
t.ok(hup("reload refused"), "SIGHUP with a broken config: 'reload refused' logged", srv.log()[-800:])
t.ok(srv.alive(), "tern still running after the refused reload")
t.ok(re.search(r"reload refused.*\n.*tern\.conf:\d+", srv.log()), "the refusal names FILE:LINE", srv.log()[-800:])
with Raw("127.0.0.1", srv.port) as c:
    c.cmd("EHLO client.test")
    c.cmd("MAIL FROM:<x@remote.example>")
    t.reply(c.cmd("RCPT TO:<nina@new.test>"), 250, "2.1.5", "after the refused reload: the old config (with new.test) serves")
x = login("carol")
t.reply(x.cmd("MAIL FROM:<carol@example.test>"), 250, "2.1.0", "after the refused reload: submission works")
x.close()
# a config whose certificate file is missing is refused too
with open(srv.conf, "w") as f:
    f.write(good_conf.replace(cert, cert + ".missing"))
t.ok(hup("reload refused"), "SIGHUP with a missing certificate file: 'reload refused'")
cn, rc, out = s_client_cert_cn(SUB, ["-starttls", "smtp", "-name", "client.test"])
t.eq(cn, "first.test.example", "after the refused reload the old certificate is still served")
with open(srv.conf, "w") as f:
    f.write(good_conf)

# ---- certificate replaced on disk ------------------------------------------------------
tls_open = login("carol")      # a TLS session from before the swap
tmpdir = os.path.join(srv.dir, "tls-new")
os.makedirs(tmpdir)
ncert, nkey = make_cert(tmpdir, "cert", "renewed.test.example")
os.replace(nkey, key)
os.replace(ncert, cert)
t.ok(hup(), "SIGHUP after replacing cert.pem and key.pem: reload done", srv.log()[-800:])
cn, rc, out = s_client_cert_cn(SUB, ["-starttls", "smtp", "-name", "client.test"])
t.eq(cn, "renewed.test.example", "a new STARTTLS handshake sees the new certificate", out[-600:])
t.reply(tls_open.cmd("NOOP"), 250, None, "a TLS session from before the swap keeps working")
t.reply(tls_open.cmd("MAIL FROM:<carol@example.test>"), 250, "2.1.0", "... and can start a transaction")
tls_open.close()

t.eq(srv.stop(15), 0, "SIGTERM: exit 0")
t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
t.done()
PYEOF
