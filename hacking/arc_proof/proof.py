# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ARC proof's mail client, run inside the containers (Debian's python3-dkim and python3-dnspython).

send: sign a message as the original sender (dkimpy), optionally add a list footer (the forwarder's change),
and hand it to the local Postfix, which relays it through rspamd (sealing) to the receiver.
check: find the message in bob's mailbox on the receiver and print what a user sees: the Authentication-Results
fields, dkimpy's DKIM and ARC verdicts (keys from the lab's nameserver); exit 1 unless they are as expected.
tamper: resubmit a delivered (sealed) message with its body changed to the receiver's own Postfix.
"""

from __future__ import annotations

import argparse
import mailbox
import smtplib
import sys
import time

import dkim
import dns.resolver


def dnsfunc(nameserver):
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [nameserver]

    def get_txt(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        try:
            answer = res.resolve(name.rstrip("."), "TXT", lifetime=timeout)
        except Exception:  # dkimpy wants None for "no key"
            return None
        return b"".join(b"".join(r.strings) for r in answer)

    return get_txt


def send(a):
    msg = (
        "From: alice@{d}\r\nTo: bob@{r}\r\nSubject: {s}\r\nMessage-ID: <{s}@{d}>\r\n"
        "Date: Wed, 02 Dec 2026 06:00:00 +0000\r\n\r\nHello Bob,\r\nthis is {s}.\r\n"
    ).format(d=a.domain, r=a.rcpt_domain, s=a.subject)
    with open(a.key, "rb") as handle:
        key = handle.read()
    sig = dkim.sign(
        msg.encode(), b"s1", a.domain.encode(), key, include_headers=[b"from", b"to", b"subject", b"message-id"]
    )
    data = sig + msg.encode()
    if a.footer:
        data += b"-- \r\nThe list footer: unsubscribe at https://lists.invalid/\r\n"
    with smtplib.SMTP("127.0.0.1", 25) as smtp:
        smtp.sendmail("alice@" + a.domain, ["bob@" + a.rcpt_domain], data)
    print("sent", a.subject, "footer" if a.footer else "")


def find(subject, wait=30):
    end = time.time() + wait
    while time.time() < end:
        for m in mailbox.mbox("/home/bob/Mailbox"):
            if m["Subject"] == subject:
                return m
        time.sleep(0.5)
    sys.exit("no message %r in /home/bob/Mailbox" % subject)


def check(a):
    m = find(a.subject)
    raw = m.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    ar = m.get_all("Authentication-Results") or []
    print("Subject:", a.subject)
    for name in ("Authentication-Results", "ARC-Authentication-Results", "ARC-Seal"):
        for v in m.get_all(name) or []:
            print("  %s: %s" % (name, " ".join(v.split())))
    get_txt = dnsfunc(a.nameserver)
    dkim_ok = dkim.verify(raw, dnsfunc=get_txt)
    cv, _results, reason = dkim.arc_verify(raw, dnsfunc=get_txt)
    print("  dkimpy dkim.verify (original signature): %s" % ("pass" if dkim_ok else "fail"))
    print("  dkimpy dkim.arc_verify: cv=%s (%s)" % (cv.decode(), reason))
    got_arc = [x.split("arc=", 1)[1].split()[0].rstrip(";") for x in ar if "arc=" in x]
    print("  receiver's arc=: %s" % (",".join(got_arc) or "(none)"))
    ok = True
    if a.dkim and ("pass" if dkim_ok else "fail") != a.dkim:
        ok = False
    if a.cv and cv.decode() != a.cv:
        ok = False
    if a.arc and a.arc not in got_arc:
        ok = False
    print("  expected dkim=%s cv=%s arc=%s: %s" % (a.dkim, a.cv, a.arc, "OK" if ok else "MISMATCH"))
    return 0 if ok else 1


def tamper(a):
    m = find(a.subject)
    data = m.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    data = data.replace(b"Subject: " + a.subject.encode(), b"Subject: " + a.new_subject.encode())
    data = data.replace(b"Hello Bob,", b"Hello Bob, send the money to account 666,")
    with smtplib.SMTP("127.0.0.1", 25) as smtp:
        smtp.sendmail("alice@" + a.domain, ["bob@localhost"], data)
    print("resubmitted", a.subject, "as", a.new_subject, "with its body changed")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--domain", required=True)
    s.add_argument("--rcpt-domain", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--subject", required=True)
    s.add_argument("--footer", action="store_true")
    c = sub.add_parser("check")
    c.add_argument("--subject", required=True)
    c.add_argument("--nameserver", default="172.30.42.53")
    c.add_argument("--dkim")
    c.add_argument("--cv")
    c.add_argument("--arc")
    t = sub.add_parser("tamper")
    t.add_argument("--subject", required=True)
    t.add_argument("--new-subject", required=True)
    t.add_argument("--domain", default="tamper.invalid")
    a = p.parse_args()
    return {"send": send, "check": check, "tamper": tamper}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
