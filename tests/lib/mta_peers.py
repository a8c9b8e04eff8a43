# SPDX-License-Identifier: ISC
"""Real MTAs as destinations for tern's outbound tests.

    pf = PostfixDest(dir, "127.0.0.11", port, domains=["dest.test"],
                     users=["u@dest.test"], tls=(cert, key))
    pf.start()
    pf.messages("u@dest.test")     # bytes of each delivered message

A PostfixDest is a private Postfix (tests/lib/postfix.py) listening on
host:port that delivers its domains into Maildirs with virtual(8) (as
nobody) and, with tls=, offers STARTTLS and writes "with ESMTPS" into
its Received header (smtpd_tls_received_header).  With sasl_socket= it
requires SMTP AUTH through a Dovecot auth socket (DovecotAuth) for
every recipient (smtpd_relay_restrictions = permit_sasl_authenticated,
reject), and AUTH only after STARTTLS: the smarthost of t24.

    da = DovecotAuth(dir, {"relayuser": "secret"})
    da.start()          # dovecot -c FILE, auth only; socket da.socket

Everything lives under the given directories; nothing is system-wide.
"""

import os
import pwd
import re
import subprocess

from tern import wait_until, sha512_crypt
import postfix as _postfix
from postfix import Postfix

_postfix_open_path = _postfix._open_path


class PostfixTLS(Postfix):
    """tests/lib/postfix.py's Postfix plus the tlsmgr service, which
    Postfix's TLS needs (without it: "no entropy ... disabling TLS")."""

    def write(self):
        Postfix.write(self)
        master = _postfix.MASTER_CF.replace("127.0.0.1:{port}",
                                            "%s:{port}" % getattr(self, "host", "127.0.0.1"))
        master += "tlsmgr    unix  - - n 1000? 1 tlsmgr\n"
        with open(os.path.join(self.confdir, "master.cf"), "w") as f:
            f.write(master.format(port=self.port))


class PostfixDest(PostfixTLS):
    def __init__(self, base, host, port, domains, users, tls=None, sasl_socket=None,
                 hostname=None, extra=None):
        self.host = host
        self.domains = list(domains)
        self.users = list(users)
        self.vmail = os.path.join(base, "vmail")
        os.makedirs(self.vmail, exist_ok=True)
        pw = pwd.getpwnam("nobody")
        os.chown(self.vmail, pw.pw_uid, pw.pw_gid)
        maps = os.path.join(base, "vmailbox")
        with open(maps, "w") as f:
            for u in self.users:
                loc, dom = u.split("@")
                f.write("%s %s/%s/\n" % (u, dom, loc))
        main = {
            "virtual_mailbox_domains": " ".join(self.domains),
            "virtual_mailbox_base": self.vmail,
            "virtual_mailbox_maps": "texthash:" + maps,
            "virtual_uid_maps": "static:%d" % pw.pw_uid,
            "virtual_gid_maps": "static:%d" % pw.pw_gid,
            "virtual_minimum_uid": "1",
            "virtual_mailbox_limit": "0",
            "smtpd_tls_received_header": "yes",
        }
        if tls:
            main.update({
                "smtpd_tls_security_level": "may",
                "smtpd_tls_cert_file": tls[0],
                "smtpd_tls_key_file": tls[1],
                "smtpd_tls_loglevel": "1",
            })
        if sasl_socket:
            main.update({
                "smtpd_sasl_auth_enable": "yes",
                "smtpd_sasl_type": "dovecot",
                "smtpd_sasl_path": sasl_socket,
                "smtpd_tls_auth_only": "yes",
                "smtpd_sasl_authenticated_header": "yes",
                "smtpd_relay_restrictions": "permit_sasl_authenticated, reject",
                "smtpd_recipient_restrictions": "permit_sasl_authenticated, reject",
                "mynetworks": "192.0.2.1/32",
            })
        if extra:
            main.update(extra)
        super().__init__(base, port, extra=main,
                         hostname=hostname or "postfix-%s.test.example" % host.replace(".", "-"))

    def start(self, timeout=30):
        ok = Postfix.start(self, timeout=1)
        from tern import wait_port
        return ok or wait_port(self.host, self.port, timeout)

    def stop(self, timeout=30):
        pid = self.master_pid()
        self.postfix("stop")
        if pid:
            from postfix import _alive
            wait_until(lambda: not _alive(pid), timeout)
            if _alive(pid):
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass

    def maildir(self, addr):
        loc, dom = addr.split("@")
        return os.path.join(self.vmail, dom, loc)

    def messages(self, addr):
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir(addr), sub)
            try:
                names = sorted(os.listdir(d))
            except FileNotFoundError:
                continue
            for n in names:
                try:
                    with open(os.path.join(d, n), "rb") as f:
                        out.append(f.read())
                except FileNotFoundError:
                    pass
        return out


DOVECOT_AUTH_CONF = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
protocols =
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_debug = no
first_valid_uid = 0
first_valid_gid = 0
default_login_user = dovenull
default_internal_user = dovecot
passdb {{
  driver = passwd-file
  args = scheme=SHA512-CRYPT {passwd}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}}
service auth {{
  unix_listener {socket} {{
    mode = 0666
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


class DovecotAuth:
    """A private Dovecot with no protocols, only the auth service on a
    UNIX socket (for Postfix's smtpd_sasl_type = dovecot)."""

    def __init__(self, base, users):
        self.base = base
        for d in ("run", "state"):
            os.makedirs(os.path.join(base, d), exist_ok=True)
        self.socket = os.path.join(base, "auth-client")
        self.passwd = os.path.join(base, "passwd")
        with open(self.passwd, "w") as f:
            for u, p in users.items():
                f.write("%s:%s\n" % (u, sha512_crypt(p)))
        os.chmod(self.passwd, 0o644)
        self.conf = os.path.join(base, "dovecot.conf")
        self.log_path = os.path.join(base, "dovecot.log")
        with open(self.conf, "w") as f:
            f.write(DOVECOT_AUTH_CONF.format(base=base, passwd=self.passwd, socket=self.socket))
        _postfix_open_path(base)

    def master_pid(self):
        try:
            with open(os.path.join(self.base, "run", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def start(self, timeout=20):
        out = os.path.join(self.base, "dovecot.start.log")
        with open(out, "wb") as f:
            rc = subprocess.run(["dovecot", "-c", self.conf], stdin=subprocess.DEVNULL,
                                stdout=f, stderr=subprocess.STDOUT, timeout=30).returncode
        if rc != 0:
            raise RuntimeError("dovecot failed (%d): %s %s" % (rc, open(out).read(), self.log()))
        return wait_until(lambda: os.path.exists(self.socket), timeout)

    def stop(self, timeout=20):
        pid = self.master_pid()
        subprocess.run(["doveadm", "-c", self.conf, "stop"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        if pid:
            if not wait_until(lambda: not os.path.exists("/proc/%d" % pid), timeout):
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


def received_with(msg):
    """The "with PROTOCOL" of every Received header of msg (bytes), top
    first, e.g. ["ESMTPS", "ESMTP"]."""
    head = msg.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    head = re.sub(rb"\n[ \t]+", b" ", head)
    out = []
    for line in head.split(b"\n"):
        if line.lower().startswith(b"received:"):
            m = re.search(rb"\bwith\s+((?:UTF8)?[EL]?SMTP\w*|[A-Z]+\b)(?!\s+cipher)", line)
            out.append(m.group(1).decode().rstrip(";") if m else None)
    return out
