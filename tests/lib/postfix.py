# SPDX-License-Identifier: ISC
"""A private Postfix instance for tests and benchmarks.

    pf = Postfix(dir, smtpd_port, relayhost="[127.0.0.1]:25250")
    pf.start()          # postfix -c DIR start; waits for the smtpd port
    ...
    pf.stop()           # postfix -c DIR stop; waits for master to exit

Everything lives under dir: config, queue_directory, data_directory and
the log (maillog_file via postlogd).  It listens only on 127.0.0.1:port,
relays nothing but to relayhost, and never uses DNS (numeric relayhost
in brackets, smtp_host_lookup = native, no peer name lookups).
"""

import os
import subprocess
import time

from tern import wait_port, wait_port_closed, wait_until, run

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


class Postfix:
    def __init__(self, base, port, relayhost=None, extra=None,
                 hostname="relay.test.example"):
        self.base = base
        self.port = port
        self.confdir = os.path.join(base, "etc")
        self.queue = os.path.join(base, "queue")
        self.data = os.path.join(base, "data")
        self.log_path = os.path.join(base, "postfix.log")
        for d in (base, self.confdir, self.queue, self.data):
            os.makedirs(d, exist_ok=True)
        # Postfix daemons run as user postfix and must reach these.
        _open_path(base)
        self.main = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": hostname,
            "mydomain": "test.example",
            "myorigin": "$myhostname",
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "mynetworks_style": "host",
            "smtp_host_lookup": "native",
            "disable_dns_lookups": "yes",
            "smtp_dns_support_level": "disabled",
            "smtpd_peername_lookup": "no",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "append_dot_mydomain": "no",
            "biff": "no",
            "maillog_file": self.log_path,
            "maillog_file_prefixes": base,
            "smtputf8_enable": "no",
            "smtpd_banner": "$myhostname ESMTP",
            "message_size_limit": "52428800",
            "smtp_tls_security_level": "none",
            "smtpd_tls_security_level": "none",
            "queue_run_delay": "5s",
            "minimal_backoff_time": "5s",
            "maximal_backoff_time": "10s",
        }
        if relayhost:
            self.main["relayhost"] = relayhost
        if extra:
            self.main.update(extra)

    def write(self):
        with open(os.path.join(self.confdir, "main.cf"), "w") as f:
            for k, v in self.main.items():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.confdir, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=self.port))
        os.chmod(self.confdir, 0o755)
        os.chown(self.data, _uid("postfix"), -1)

    def postfix(self, *args, timeout=60):
        return run(["postfix", "-c", self.confdir] + list(args), timeout=timeout)

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def start(self, timeout=30):
        self.write()
        rc, out, err = _tty_run(["postfix", "-c", self.confdir, "check"])
        if rc != 0:
            raise RuntimeError("postfix check failed: %s %s" % (out, err))
        rc, out, err = _tty_run(["postfix", "-c", self.confdir, "start"])
        if rc != 0:
            raise RuntimeError("postfix start failed (%d): %s %s %s" % (rc, out, err, self.log()))
        return wait_port("127.0.0.1", self.port, timeout)

    def stop(self, timeout=30):
        pid = self.master_pid()
        self.postfix("stop")
        if pid:
            wait_until(lambda: not _alive(pid), timeout)
            if _alive(pid):
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
        wait_port_closed("127.0.0.1", self.port, 10)

    def queue_count(self):
        """Messages still in Postfix's queue (any state)."""
        n = 0
        for sub in ("incoming", "active", "deferred", "hold", "maildrop"):
            for _, _, fs in os.walk(os.path.join(self.queue, sub)):
                n += len(fs)
        return n

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


def _uid(user):
    import pwd
    return pwd.getpwnam(user).pw_uid


def _tty_run(argv):
    """Runs argv under script(1): postfix(1) prints its fatal errors only
    to a terminal (else to syslog)."""
    import shlex
    return run(["script", "-qec", " ".join(shlex.quote(a) for a in argv), "/dev/null"])


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _open_path(path):
    """Makes path and its parents traversable by other users (o+x)."""
    p = os.path.abspath(path)
    while True:
        st = os.stat(p)
        if not st.st_mode & 0o001:
            os.chmod(p, st.st_mode | 0o005)
        if p == "/":
            break
        p = os.path.dirname(p)
