#!/usr/bin/env bash
# t33_enospc: nothing is lost when the disk fills.  tern's spool and its
# mailroot each live on a small private tmpfs (needs root: mount; skipped
# otherwise), and tern runs as nobody so that a directory mode can lock it
# out.
#   1. spool full (a filler file): a small message (the failure shows at
#      commit) and a 1 MiB one that half fits (the failure shows while the
#      data streams in) both get 452 4.3.1 at end of data, never 250; the
#      session and the server go on; nothing is left in the spool's tmp/ or
#      queue/ and nothing reaches a Maildir; without the filler: 250, and
#      delivered once.
#   2. unwritable spool: spool/tmp mode 0500 (EACCES) for mail that must
#      be committed (a remote recipient), then the tmpfs remounted
#      read-only (EROFS): 452 4.3.1 too, never 250; accepted again once
#      writable.  All-local mail, delivered before the reply, may get a
#      250 with tmp/ at 0500, but only with its copy made.
#   3. mailroot full: the message is accepted (the spool has room), local
#      delivery is deferred with 4.3.1 and retried ([queue] min_retry 1s),
#      nothing half-written stays in the Maildir, and once space returns it
#      is delivered exactly once and the spool drains.
set -uo pipefail
TERN_ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
. "$TERN_ROOT/tests/lib/common.sh"
require_tern

SPOOLFS=$TERN_TEST_DIR/spoolfs
MAILFS=$TERN_TEST_DIR/mailfs
mkdir -p "$SPOOLFS" "$MAILFS"
if [ "$(id -u)" -ne 0 ]; then
	echo "ok - skipped: mounting a small tmpfs needs root # SKIP"
	exit 0
fi
if ! err=$(mount -t tmpfs -o size=3m,mode=0755 tmpfs "$SPOOLFS" 2>&1); then
	echo "ok - skipped: mount -t tmpfs not permitted here ($err) # SKIP"
	exit 0
fi
on_cleanup "umount -l '$SPOOLFS'"
if ! err=$(mount -t tmpfs -o size=2m,mode=0755 tmpfs "$MAILFS" 2>&1); then
	echo "not ok - second tmpfs mounts ($err)"
	exit 1
fi
on_cleanup "umount -l '$MAILFS'"
export SPOOLFS MAILFS

"$PY" - <<'PYEOF'
import errno, os, pwd, re, smtplib, subprocess
from tern import Tap, wait_until, message, header
from outbound import TernOut, new_msgid

t = Tap()
SPOOLFS, MAILFS = os.environ["SPOOLFS"], os.environ["MAILFS"]
srv = TernOut(33, "tern", run_as="nobody")
srv.spool = srv.server["spool"] = os.path.join(SPOOLFS, "spool")
srv.mailroot = srv.server["mailroot"] = os.path.join(MAILFS, "mail")
srv.domain("example.test", users=["alice", "bob"], aliases={"far": ["far@remote.test"]})
srv.queue(min_retry="1s", max_retry="2s")
nobody = pwd.getpwnam("nobody")
for d in (SPOOLFS, MAILFS):
    os.chown(d, nobody.pw_uid, nobody.pw_gid)
SENDER, RCPT = "bob@example.test", "alice@example.test"
FAR = "far@example.test"  # an alias of a remote address: kept in the queue
FILLERS = []

def fill(fs, leave=0):
    """Fills fs with a filler file; then gives back `leave` bytes."""
    path = os.path.join(fs, "filler.%d" % len(FILLERS))
    FILLERS.append(path)
    chunk = b"\0" * 65536
    # Unbuffered: nothing is left to flush (and fail) at close.
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise
    if leave:
        os.truncate(path, max(0, os.path.getsize(path) - leave))
    return path

def unfill():
    while FILLERS:
        try:
            os.unlink(FILLERS.pop())
        except FileNotFoundError:
            pass

def send(subject, size=2000, rcpt=RCPT):
    """One transaction with smtplib; returns (msgid, (code, text)) of the
    end-of-data reply (or of DATA when that is refused), or an error."""
    mid = new_msgid("t33")
    body = "".join("%s line %d %s\r\n" % (subject, i, "y" * 60)
                   for i in range(max(1, size // 80)))
    data = message(SENDER, rcpt, subject, body=body, msgid=mid)
    try:
        with smtplib.SMTP(srv.host, srv.port, local_hostname="c.test", timeout=30) as s:
            s.ehlo()
            code, text = s.mail(SENDER)
            if code != 250:
                return mid, (code, text.decode())
            code, text = s.rcpt(rcpt)
            if code != 250:
                return mid, (code, text.decode())
            try:
                code, text = s.data(data)
            except smtplib.SMTPDataError as e:
                code, text = e.smtp_code, e.smtp_error
            text = text.decode() if isinstance(text, bytes) else text
            # The session goes on after a refusal.
            if s.noop()[0] != 250:
                return mid, (code, text + " (and NOOP failed)")
            return mid, (code, text)
    except (OSError, smtplib.SMTPException) as e:
        return mid, (0, "%s: %s" % (type(e).__name__, e))

def spool_dir(sub):
    d = os.path.join(srv.spool, sub)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []

def in_maildirs(mid):
    n = 0
    for p in srv.all_maildir_files():
        with open(p, "rb") as f:
            if header(f.read(), "Message-ID") == mid:
                n += 1
    return n

def drained():
    return wait_until(lambda: spool_dir("queue") == [], 15)

def check_nothing_left(what, mid):
    t.ok(srv.alive() and srv.greets(), "%s: tern still up and greeting" % what)
    t.eq(srv.spool_tmp_files(), [], "%s: no partial file left in spool tmp/" % what)
    t.eq(spool_dir("queue"), [], "%s: nothing in spool queue/" % what)
    t.eq(in_maildirs(mid), 0, "%s: no Maildir copy" % what)

def accepted_again(what):
    mid, r = send(what)
    t.reply(r, 250, "2.0.0", "%s: 250 again" % what)
    t.ok(wait_until(lambda: in_maildirs(mid) == 1, 15), "%s: delivered" % what)
    t.ok(drained(), "%s: spool queue/ drained" % what, spool_dir("queue"))
    return mid

try:
    if not t.ok(srv.start(), "tern starts (as nobody, spool and mailroot on tmpfs)"):
        t.done()
    accepted_again("baseline")

    # ---- 1. spool full --------------------------------------------------
    fill(SPOOLFS)
    # More than the one page the baseline's spare file gives back when
    # it is reused (docs/spool.md, spares).
    mid, r = send("full-small", size=6000)
    t.reply(r, 452, "4.3.1", "spool full, small message: 452 4.3.1 at end of data")
    check_nothing_left("spool full, small", mid)
    unfill()
    fill(SPOOLFS, leave=256 * 1024)
    mid, r = send("full-large", size=1024 * 1024)
    t.reply(r, 452, "4.3.1", "spool full after 256 KiB of a 1 MiB message: 452 4.3.1")
    check_nothing_left("spool full, large", mid)
    t.ok(re.search(r"smtp spool write failed qid=\S+: No space left on device", srv.log()),
         "log names the failed spool write")
    unfill()
    accepted_again("spool space back")

    # ---- 2. unwritable spool -------------------------------------------
    tmpdir = os.path.join(srv.spool, "tmp")
    os.chmod(tmpdir, 0o500)
    # A remote recipient needs a commit into queue/.
    mid, r = send("spool-eacces", rcpt=FAR)
    t.reply(r, 452, "4.3.1", "spool tmp/ not writable (EACCES): 452 4.3.1, no 250")
    check_nothing_left("spool tmp/ not writable", mid)
    # All-local mail needs no commit: a spare file may still buffer it
    # (docs/spool.md), and then its copy is made before the 250.
    mid, r = send("spool-eacces-local")
    t.ok((r[0] == 250 and in_maildirs(mid) == 1) or (r[0] == 452 and in_maildirs(mid) == 0),
         "spool tmp/ not writable, local mail: 250 with its copy made, or 452 and none", r)
    os.chmod(tmpdir, 0o700)
    accepted_again("spool tmp/ writable again")

    rc = subprocess.run(["mount", "-o", "remount,ro", SPOOLFS]).returncode
    if t.eq(rc, 0, "spool tmpfs remounted read-only"):
        mid, r = send("spool-erofs")
        t.reply(r, 452, "4.3.1", "read-only spool (EROFS): 452 4.3.1, no 250")
        check_nothing_left("read-only spool", mid)
        t.eq(subprocess.run(["mount", "-o", "remount,rw", SPOOLFS]).returncode, 0,
             "spool tmpfs read-write again")
        accepted_again("spool read-write again")

    # ---- 3. mailroot full ----------------------------------------------
    before = len(srv.maildir_files("example.test", "alice"))
    fill(MAILFS)
    mid, r = send("maildir-full", size=20000)
    t.reply(r, 250, "2.0.0", "mailroot full: the spool still takes the message (250)")
    qid = re.search(r"queued as (\S+)", r[1])
    qid = qid.group(1) if qid else "?"
    deferred = lambda: re.findall(r"(?m)^.*%s queue deferred rcpt=<?%s>? .*dsn=4\.3\.1.*$" %
                                  (re.escape(qid), re.escape(RCPT)), srv.log())
    got = wait_until(lambda: len(deferred()) >= 2, 20)
    t.ok(got, "local delivery deferred with 4.3.1 and retried (%d deferrals)" % len(deferred()),
         srv.log()[-2000:])
    t.ok(re.search(r"(?m)%s deliver rcpt=<%s> .*status=deferred dsn=4\.3\.1" %
                   (re.escape(qid), re.escape(RCPT)), srv.log()),
         "deliver log line: status=deferred dsn=4.3.1")
    t.eq(spool_dir("queue")[:1], [qid], "message kept in spool queue/ while the mailroot is full")
    t.eq(in_maildirs(mid), 0, "not in the Maildir yet")
    t.eq(srv.tmp_files(), [], "no half-written file in Maildir tmp/")
    unfill()
    t.ok(wait_until(lambda: in_maildirs(mid) == 1, 20), "delivered once space returns")
    t.ok(drained(), "spool queue/ drained (no journal left)", spool_dir("queue"))
    t.eq(in_maildirs(mid), 1, "exactly one copy")
    t.eq(len(srv.maildir_files("example.test", "alice")), before + 1,
         "alice's Maildir holds one more message")
    t.eq(srv.read_messages("example.test", "bob"), [], "no DSN or delay warning to the sender")
    t.eq(srv.tmp_files(), [], "Maildir tmp/ empty")
    t.ok(srv.alive(), "tern up after all phases")
    t.eq(srv.stop(15), 0, "SIGTERM: exit 0")
    t.ok(srv.sanitizer_report() is None, "no sanitizer report", srv.sanitizer_report())
finally:
    unfill()
    subprocess.run(["mount", "-o", "remount,rw", SPOOLFS], stderr=subprocess.DEVNULL)
t.done()
PYEOF
