# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rspamd signing proof's mail client, run inside the containers (Debian's python3-dkim, python3-dnspython).

send: hand a message to an SMTP server (the signer's own Postfix from 127.0.0.1: an internal client; or the
signer's address from the nameserver container: a client from outside).
check: find the message in bob's mailbox and print what a user sees: each DKIM-Signature (d=, s=, a=) and
dkimpy's verdict on it (keys from the lab's nameserver); exit 1 unless the signatures are exactly the expected ones.
"""

from __future__ import annotations

import argparse
import mailbox
import re
import smtplib
import sys
import time


def send(a):
    msg = (
        "From: alice@{d}\r\nTo: bob@localhost\r\nSubject: {s}\r\nMessage-ID: <{s}@{d}>\r\n"
        "Date: Wed, 02 Dec 2026 06:00:00 +0000\r\n\r\nHello Bob,\r\nthis is {s}.\r\n"
    ).format(d=a.domain, s=a.subject)
    with smtplib.SMTP(a.server, 25) as smtp:
        smtp.sendmail("alice@" + a.domain, [a.rcpt], msg.encode())
    print("sent", a.subject, "from", a.domain, "to", a.server)


def find(subject, wait=30):
    end = time.time() + wait
    while time.time() < end:
        for m in mailbox.mbox("/home/bob/Mailbox"):
            if m["Subject"] == subject:
                return m
        time.sleep(0.5)
    sys.exit("no message %r in /home/bob/Mailbox" % subject)


def check(a):
    import dkim
    import dns.resolver

    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [a.nameserver]

    def get_txt(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        try:
            answer = res.resolve(name.rstrip("."), "TXT", lifetime=timeout)
        except Exception:  # dkimpy wants None for "no key"
            return None
        return b"".join(b"".join(r.strings) for r in answer)

    m = find(a.subject)
    raw = m.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    sigs = m.get_all("DKIM-Signature") or []
    got = []
    d = dkim.DKIM(raw)
    print("Subject:", a.subject)
    for i, sig in enumerate(sigs):
        tags = dict(
            (k.strip(), v.strip()) for k, v in (x.split("=", 1) for x in re.sub(r"\s+", "", sig).split(";") if "=" in x)
        )
        ok = d.verify(idx=i, dnsfunc=get_txt)
        got.append("%s/%s/%s:%s" % (tags.get("d"), tags.get("s"), tags.get("a"), "pass" if ok else "fail"))
        print(
            "  DKIM-Signature d=%s s=%s a=%s: dkimpy %s"
            % (tags.get("d"), tags.get("s"), tags.get("a"), "pass" if ok else "fail")
        )
    if not sigs:
        print("  no DKIM-Signature")
    want = sorted(a.expect or [])
    ok = sorted(got) == want
    print("  expected %s: %s" % (want or "no signature", "OK" if ok else "MISMATCH (got %s)" % sorted(got)))
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--domain", required=True)
    s.add_argument("--subject", required=True)
    s.add_argument("--server", default="127.0.0.1")
    s.add_argument("--rcpt", default="bob@localhost")
    c = sub.add_parser("check")
    c.add_argument("--subject", required=True)
    c.add_argument("--nameserver", default="172.30.44.53")
    c.add_argument("--expect", action="append", help="d/s/a:pass, once per expected signature")
    a = p.parse_args()
    return {"send": send, "check": check}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
