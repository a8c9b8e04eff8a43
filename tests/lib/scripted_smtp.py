# SPDX-License-Identifier: ISC
"""A scriptable SMTP server for tern's outbound tests (stdlib only; runs
as threads inside the test's /usr/bin/python3, or standalone:
`scripted_smtp.py HOST PORT DIR [JSON-SCRIPT]`).

    s = ScriptedSMTP("127.0.0.11", port, dir, name="mx1",
                     greeting=["421 4.3.2 busy", "220 mx1 ESMTP"],
                     rcpt={"u@dest.test": ["451 4.3.0 later", "250 2.1.5 ok"],
                           "gone@dest.test": "550 5.1.1 no such user"},
                     ext=["PIPELINING", "SIZE 1000000", "8BITMIME"],
                     tls=(cert, key))                 # advertises STARTTLS
    s.start()
    ...
    s.accepted          # [Transaction]: mail_from, rcpts, data, tls, ...
    s.connections       # number of TCP connections seen
    s.events            # [(time, conn no, "C"/"S", line)]
    s.stop()

Replies are scripted per step.  A value is a reply line ("451 4.3.0
try later"), a list of them (used in turn, one per occurrence, the last
repeating: ["451 ...", "451 ...", "250 ..."] fails twice, then
accepts), or a callable(session, arg) returning a reply, None for the
default, or the string "close" (drop the connection without a reply) or
"hang" (reply nothing, keep reading until the client goes away).
Occurrences are counted across connections: for greeting/ehlo/mail/data
per server, for rcpt per recipient address (lowercased; the key "*"
applies to the others).  "close"/"hang" work everywhere.

Every transaction that got a 2xx after DATA is recorded in memory
(self.accepted) and as two files in DIR: NNNNNN.eml (the data,
unstuffed, CRLF) and NNNNNN.json (envelope, HELO name, TLS, peer, time).

The server notes protocol slips of the client in self.violations:
commands sent ahead of a reply without PIPELINING, data after STARTTLS
in the same packet, RCPT or DATA with no MAIL sent at all (after a
refused MAIL, pipelined RCPT/DATA are normal: RFC 2920), a line
without CRLF, a line longer than 1000 octets (512 for commands).
"""

import json
import os
import socket
import ssl
import sys
import threading
import time


class Transaction:
    def __init__(self, conn, helo, mail_from, mail_params, tls):
        self.conn = conn
        self.helo = helo
        self.mail_from = mail_from
        self.mail_params = mail_params
        self.rcpts = []          # accepted recipients (as sent, no <>)
        self.data = b""
        self.tls = tls           # None or the TLS version
        self.time = time.time()
        self.seq = None
        self.path = None
        self.server = None

    def to_json(self):
        return {"seq": self.seq, "conn": self.conn, "helo": self.helo,
                "mail_from": self.mail_from, "mail_params": self.mail_params,
                "rcpts": self.rcpts, "tls": self.tls, "time": self.time,
                "server": self.server, "size": len(self.data)}

    def header(self, name):
        head = self.data.split(b"\r\n\r\n", 1)[0]
        import re
        m = re.search(rb"(?im)^" + re.escape(name.encode()) + rb":[ \t]*(.*?)\r?$", head)
        return m.group(1).decode("utf-8", "replace") if m else None


class _Session:
    """One connection (runs in its own thread)."""

    def __init__(self, srv, sock, peer, no):
        self.srv = srv
        self.sock = sock
        self.peer = peer
        self.no = no
        self.buf = b""
        self.tls = None
        self.helo = None
        self.esmtp = False
        self.tx = None
        self.mail_sent = False   # a MAIL command (any reply) in this transaction
        self.closed = False

    # ---- I/O ---------------------------------------------------------

    def send(self, line):
        self.srv._event(self.no, "S", line)
        self.sock.sendall(line.encode("utf-8") + b"\r\n")

    def reply(self, text):
        """text may be multi-line (\\n-separated, each "NNN text")."""
        lines = text.split("\n")
        out = []
        for i, ln in enumerate(lines):
            code, rest = ln[:3], ln[4:] if len(ln) > 3 else ""
            sep = " " if i == len(lines) - 1 else "-"
            out.append("%s%s%s" % (code, sep, rest))
        for ln in out:
            self.srv._event(self.no, "S", ln)
        self.sock.sendall("".join(ln + "\r\n" for ln in out).encode("utf-8"))

    def readline(self, limit):
        while b"\n" not in self.buf:
            if len(self.buf) > limit * 4 + 65536:
                raise EOFError("line too long")
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("closed")
            self.buf += d
        line, _, self.buf = self.buf.partition(b"\n")
        if not line.endswith(b"\r"):
            self.srv._violation(self.no, "line without CRLF: %r" % line[:80])
        else:
            line = line[:-1]
        if len(line) + 2 > limit:
            self.srv._violation(self.no, "line of %d octets" % (len(line) + 2))
        return line

    # ---- scripted replies ---------------------------------------------

    def scripted(self, step, key, default, arg=None):
        """The reply for step (greeting, ehlo, mail, rcpt, data, ...)."""
        r = self.srv._next(step, key, arg, self)
        return default if r is None else r

    def act(self, r):
        """Sends r; returns False if the session must end."""
        if r == "close":
            self.srv._event(self.no, "S", "<close>")
            return False
        if r == "hang":
            self.srv._event(self.no, "S", "<hang>")
            try:
                self.sock.settimeout(self.srv.hang_timeout)
                while self.sock.recv(65536):
                    pass
            except OSError:
                pass
            return False
        self.reply(r)
        return True

    def check_pipelining(self, cmd):
        """Data after a command that needs a reply first = pipelining."""
        if self.buf and "PIPELINING" not in self.srv.ext_names():
            self.srv._violation(self.no, "pipelined after %s without PIPELINING" % cmd)

    # ---- the protocol -------------------------------------------------

    def run(self):
        srv = self.srv
        if not self.act(self.scripted("greeting", None, "220 %s ESMTP scripted" % srv.name)):
            return
        r = srv.greeting_reply_code(self)
        if r is not None and r != 220:
            # a 421/554 greeting: the client should QUIT; wait for it
            try:
                self.sock.settimeout(5)
                line = self.readline(512)
                srv._event(self.no, "C", line.decode("utf-8", "replace"))
                if line.upper().startswith(b"QUIT"):
                    self.reply("221 2.0.0 bye")
            except (OSError, EOFError):
                pass
            return
        while True:
            line = self.readline(512)
            text = line.decode("utf-8", "replace")
            srv._event(self.no, "C", text)
            verb = text.split(" ", 1)[0].upper()
            arg = text[len(verb):].strip()
            if verb in ("EHLO", "HELO"):
                self.check_pipelining(verb)
                self.helo = arg
                self.esmtp = verb == "EHLO"
                self.tx = None
                if verb == "EHLO":
                    if srv.esmtp is False:
                        r = self.scripted("ehlo", None, "502 5.5.1 EHLO not supported")
                    else:
                        exts = srv.ext_names(self.tls is not None)
                        r = self.scripted("ehlo", None,
                                          "\n".join(["250 %s hello %s" % (srv.name, arg)] +
                                                    ["250 " + e for e in exts]))
                else:
                    r = self.scripted("helo", None, "250 %s" % srv.name)
                if not self.act(r):
                    return
            elif verb == "STARTTLS":
                if srv.tls is None or self.tls is not None:
                    self.reply("502 5.5.1 no STARTTLS here")
                    continue
                if self.buf:
                    srv._violation(self.no, "data after STARTTLS in the same packet")
                r = self.scripted("starttls", None, "220 2.0.0 go ahead")
                if not self.act(r):
                    return
                if not r.startswith("220"):
                    continue
                if srv.tls_handshake == "garbage":
                    self.sock.sendall(b"this is not TLS\r\n" * 4)
                    return
                try:
                    self.sock.settimeout(srv.timeout)
                    self.sock = srv.tls_context().wrap_socket(self.sock, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    srv._event(self.no, "S", "<tls handshake failed: %s>" % e)
                    return
                self.tls = self.sock.version()
                srv._event(self.no, "S", "<tls %s %s>" % (self.tls, self.sock.cipher()[0]))
                self.buf = b""
                self.helo = None
                self.tx = None
            elif verb == "AUTH":
                self.check_pipelining(verb)
                ok = srv.auth_check(self, arg)
                if not self.act(ok):
                    return
            elif verb == "MAIL":
                self.mail_sent = True
                if self.helo is None:
                    self.act("503 5.5.1 EHLO first")
                    continue
                if self.tx is not None:
                    self.act("503 5.5.1 nested MAIL")
                    continue
                path, params = _parse_path(arg, "FROM:")
                if path is None:
                    self.act("501 5.5.4 syntax")
                    continue
                size = params.get("SIZE")
                if srv.size_limit and size and size.isdigit() and int(size) > srv.size_limit:
                    if not self.act("552 5.3.4 message size exceeds fixed limit"):
                        return
                    continue
                r = self.scripted("mail", path.lower(), "250 2.1.0 ok", arg)
                if not self.act(r):
                    return
                if r.startswith("2"):
                    self.tx = Transaction(self.no, self.helo, path, params, self.tls)
            elif verb == "RCPT":
                if self.tx is None:
                    if not self.mail_sent:
                        srv._violation(self.no, "RCPT without MAIL")
                    if not self.act("503 5.5.1 MAIL first"):
                        return
                    continue
                path, params = _parse_path(arg, "TO:")
                if path is None:
                    self.act("501 5.5.4 syntax")
                    continue
                key = path.lower()
                r = self.scripted("rcpt", key, "250 2.1.5 ok", arg)
                if not self.act(r):
                    return
                if r.startswith("2"):
                    self.tx.rcpts.append(path)
                    srv._rcpt_active(self.no, path)
            elif verb == "DATA":
                self.check_pipelining(verb)
                if self.tx is None or not self.tx.rcpts:
                    if self.tx is None and not self.mail_sent:
                        srv._violation(self.no, "DATA without MAIL")
                    if not self.act("554 5.5.1 no valid recipients" if self.tx else
                                    "503 5.5.1 MAIL first"):
                        return
                    self.tx = None
                    self.mail_sent = False
                    continue
                r = self.scripted("data_start", None, "354 go ahead")
                if not self.act(r):
                    return
                if not r.startswith("354"):
                    self.tx = None
                    continue
                lines = []
                while True:
                    ln = self.readline(1000)
                    if ln == b".":
                        break
                    if ln.startswith(b"."):
                        ln = ln[1:]
                    lines.append(ln)
                self.tx.data = b"".join(ln + b"\r\n" for ln in lines)
                srv._event(self.no, "C", "<data %d octets>" % len(self.tx.data))
                if srv.data_delay:
                    time.sleep(srv.data_delay)
                r = self.scripted("data", None, "250 2.0.0 ok queued as %d" % 0, self.tx)
                if r.startswith("2"):
                    srv._accept(self.tx)
                    if "queued as 0" in r:
                        r = r.replace("queued as 0", "queued as %s-%d" % (srv.name, self.tx.seq))
                tx, self.tx = self.tx, None
                self.mail_sent = False
                srv._rcpt_done(self.no)
                if not self.act(r):
                    return
                srv._after_data(tx, self)
            elif verb == "RSET":
                self.tx = None
                self.mail_sent = False
                srv._rcpt_done(self.no)
                if not self.act(self.scripted("rset", None, "250 2.0.0 ok")):
                    return
            elif verb == "NOOP":
                self.act("250 2.0.0 ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 bye")
                return
            else:
                self.act("500 5.5.2 unknown command")


def _parse_path(arg, prefix):
    if not arg.upper().startswith(prefix):
        return None, {}
    rest = arg[len(prefix):].strip()
    if not rest.startswith("<") or ">" not in rest:
        return None, {}
    path = rest[1:rest.index(">")]
    params = {}
    for p in rest[rest.index(">") + 1:].split():
        k, _, v = p.partition("=")
        params[k.upper()] = v
    return path, params


class ServerGroup:
    """Counters shared by several ScriptedSMTP servers (group=): open
    connections and open transactions (first accepted RCPT until the
    reply to the final dot, RSET or close) across all of them, with
    their peaks."""

    def __init__(self):
        self.lock = threading.Lock()
        self.conns = self.conn_peak = 0
        self.txs = self.tx_peak = 0

    def add(self, what, delta):
        with self.lock:
            v = getattr(self, what) + delta
            setattr(self, what, v)
            peak = "conn_peak" if what == "conns" else "tx_peak"
            setattr(self, peak, max(getattr(self, peak), v))


class ScriptedSMTP:
    def __init__(self, host, port, directory, name=None, greeting=None, ehlo=None,
                 helo=None, mail=None, rcpt=None, data=None, data_start=None, rset=None,
                 starttls=None, ext=None, tls=None, tls_handshake="ok", esmtp=True,
                 size_limit=0, auth=None, data_delay=0.0, timeout=60.0,
                 hang_timeout=120.0, after_data=None, group=None):
        """tls: (cert, key) to advertise STARTTLS; tls_handshake "ok" or
        "garbage" (220 to STARTTLS, then junk instead of a handshake).
        auth: {user: password} to advertise AUTH PLAIN LOGIN.
        ext: extensions after the EHLO line (default PIPELINING, 8BITMIME,
        ENHANCEDSTATUSCODES, SIZE 52428800).  data_delay: seconds to wait
        before the reply to the final dot."""
        self.host = host
        self.port = port
        self.dir = directory
        self.name = name or "%s_%d" % (host, port)
        os.makedirs(directory, exist_ok=True)
        self.script = {"greeting": greeting, "ehlo": ehlo, "helo": helo, "mail": mail,
                       "rcpt": rcpt, "data": data, "data_start": data_start, "rset": rset,
                       "starttls": starttls}
        self.ext = list(ext) if ext is not None else \
            ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE 52428800"]
        self.tls = tls
        self.tls_handshake = tls_handshake
        self.esmtp = esmtp
        self.size_limit = size_limit
        self.auth = auth
        self.data_delay = data_delay
        self.timeout = timeout
        self.hang_timeout = hang_timeout
        self.after_data = after_data
        self.group = group
        self.lock = threading.Lock()
        self.counts = {}
        self.accepted = []
        self.events = []
        self.violations = []
        self.connections = 0
        self.active = 0
        self.max_active = 0
        self.auth_ok = []
        self._rcpt_domains = {}       # conn -> set(domains) in the open tx
        self.domain_active = {}       # domain -> connections with an open tx
        self.domain_max = {}          # domain -> max of the above
        self._seq = 0
        self._ctx = None
        self.sock = None
        self.thread = None
        self.sessions = []
        self.running = False
        self.log_path = os.path.join(directory, "events.log")

    # ---- bookkeeping (called from session threads) -----------------------

    def _event(self, conn, who, line):
        with self.lock:
            self.events.append((time.time(), conn, who, line))
        try:
            with open(self.log_path, "a") as f:
                f.write("%.3f %d %s %s\n" % (time.time(), conn, who, line))
        except OSError:
            pass

    def _violation(self, conn, what):
        with self.lock:
            self.violations.append((conn, what))
        self._event(conn, "!", what)

    def _next(self, step, key, arg, session):
        rule = self.script.get(step)
        if isinstance(rule, dict):
            rule = rule.get(key, rule.get("*"))
        if rule is None:
            return None
        if callable(rule):
            return rule(session, arg)
        if isinstance(rule, str):
            return rule
        with self.lock:
            k = (step, key)
            n = self.counts.get(k, 0)
            self.counts[k] = n + 1
        return rule[min(n, len(rule) - 1)]

    def greeting_reply_code(self, session):
        for t, c, who, line in reversed(self.events):
            if c == session.no and who == "S":
                try:
                    return int(line[:3])
                except ValueError:
                    return None
        return None

    def ext_names(self, in_tls=False):
        out = list(self.ext)
        if self.tls is not None and not in_tls:
            out.append("STARTTLS")
        if self.auth:
            out.append("AUTH PLAIN LOGIN")
        return out

    def auth_check(self, session, arg):
        import base64
        if not self.auth:
            return "502 5.5.1 no AUTH"
        parts = arg.split()
        if not parts or parts[0].upper() != "PLAIN":
            return "504 5.5.4 only PLAIN"
        if len(parts) == 1:
            session.reply("334 ")
            resp = session.readline(12288).decode()
        else:
            resp = parts[1]
        try:
            _, user, pw = base64.b64decode(resp).decode().split("\0")
        except Exception:
            return "501 5.5.2 bad base64"
        if self.auth.get(user) == pw:
            self.auth_ok.append(user)
            return "235 2.7.0 ok"
        return "535 5.7.8 bad credentials"

    def _accept(self, tx):
        with self.lock:
            self._seq += 1
            tx.seq = self._seq
            tx.server = self.name
            self.accepted.append(tx)
        base = os.path.join(self.dir, "%06d" % tx.seq)
        with open(base + ".eml", "wb") as f:
            f.write(tx.data)
        with open(base + ".json.tmp", "w") as f:
            json.dump(tx.to_json(), f)
        os.rename(base + ".json.tmp", base + ".json")
        tx.path = base + ".eml"

    def _after_data(self, tx, session):
        if self.after_data:
            self.after_data(tx, session)

    def _rcpt_active(self, conn, path):
        dom = path.rpartition("@")[2].lower()
        with self.lock:
            if conn not in self._rcpt_domains and self.group is not None:
                self.group.add("txs", 1)
            doms = self._rcpt_domains.setdefault(conn, set())
            if dom not in doms:
                doms.add(dom)
                n = self.domain_active.get(dom, 0) + 1
                self.domain_active[dom] = n
                self.domain_max[dom] = max(self.domain_max.get(dom, 0), n)

    def _rcpt_done(self, conn):
        with self.lock:
            doms = self._rcpt_domains.pop(conn, None)
            if doms is not None and self.group is not None:
                self.group.add("txs", -1)
            for dom in doms or ():
                self.domain_active[dom] -= 1

    def tls_context(self):
        if self._ctx is None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.tls[0], self.tls[1])
            self._ctx = ctx
        return self._ctx

    # ---- queries --------------------------------------------------------

    def rcpt_attempts(self, addr):
        """How many RCPT TO:<addr> the server saw."""
        addr = addr.lower()
        with self.lock:
            return sum(1 for _, _, w, l in self.events
                       if w == "C" and l.upper().startswith("RCPT TO:") and
                       ("<%s>" % addr) in l.lower())

    def commands(self, verb):
        """Times of each client command verb (e.g. "MAIL")."""
        with self.lock:
            return [t for t, _, w, l in self.events
                    if w == "C" and l.upper().startswith(verb.upper())]

    def delivered_to(self, addr):
        addr = addr.lower()
        with self.lock:
            return [tx for tx in self.accepted if addr in [r.lower() for r in tx.rcpts]]

    # ---- server ---------------------------------------------------------

    def start(self):
        s = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET,
                          socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(128)
        s.settimeout(0.2)
        self.sock = s
        self.running = True
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()
        return True

    def _accept_loop(self):
        while self.running:
            try:
                c, peer = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
                no = self.connections
                self.active += 1
                self.max_active = max(self.max_active, self.active)
            if self.group is not None:
                self.group.add("conns", 1)
            c.settimeout(self.timeout)
            sess = _Session(self, c, peer, no)
            self.sessions.append(sess)
            self._event(no, "+", "connect from %s:%d" % peer[:2])
            threading.Thread(target=self._serve, args=(sess,), daemon=True).start()

    def _serve(self, sess):
        try:
            sess.run()
        except (OSError, EOFError, ssl.SSLError, ValueError) as e:
            self._event(sess.no, "-", "ended: %s" % e)
        finally:
            self._rcpt_done(sess.no)
            with self.lock:
                self.active -= 1
            if self.group is not None:
                self.group.add("conns", -1)
            try:
                sess.sock.close()
            except OSError:
                pass
            self._event(sess.no, "-", "closed")

    def stop(self):
        """Stops listening and drops every open connection."""
        self.running = False
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        if self.thread is not None:
            self.thread.join(2)
        for sess in self.sessions:
            try:
                sess.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: scripted_smtp.py HOST PORT DIR [JSON-SCRIPT]")
    kw = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    s = ScriptedSMTP(sys.argv[1], int(sys.argv[2]), sys.argv[3], **kw)
    s.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    s.stop()


if __name__ == "__main__":
    main()
