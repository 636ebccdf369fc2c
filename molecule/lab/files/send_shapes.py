"""Send mail of the shapes that break signatures when a hop rewrites it after signing, run on the
sender (mx1): lines of 999, 1,500 and 10,000 octets, 8-bit UTF-8 bodies (one of them with a
1,500-octet line, which a break would cut inside a character) and a body without a final newline.

Usage: send_shapes.py TOKEN SENDER RCPT [--submission USER] (the password in LAB_PASSWORD)
Without --submission each message goes through the local sendmail; with it, through the
submission service on 127.0.0.1:587 (STARTTLS, AUTH PLAIN). Prints a JSON list, one object per
message: its id (the Message-ID without brackets), shape, route and longest body line in octets.
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import ssl
import subprocess
import time

# Printable ASCII without spaces, as in minified HTML, CSS or JSON (a space would let relaxed
# canonicalisation hide one kind of break).
FILLER = '<td class=x>{"k":[0,1,2],"v":"abcdefghij"}</td>'
UTF8_FILLER = "Grüße aus Köln, naïve café, 東京 ✉ "


def ascii_line(octets: int) -> str:
    return (FILLER * (octets // len(FILLER) + 1))[:octets]


def utf8_line(octets: int) -> str:
    """UTF-8 text of exactly this many octets (whole characters; ASCII pads the end)."""
    out = ""
    while True:
        for char in UTF8_FILLER:
            if len((out + char).encode()) > octets:
                return out + "." * (octets - len(out.encode()))
            out += char


def bodies() -> list[tuple[str, str, bool]]:
    """(shape, body, eight_bit); a body ends with a newline unless its shape says otherwise."""
    return [
        ("line-999", "A line of 999 octets follows.\n%s\nEnd.\n" % ascii_line(999), False),
        ("line-1500", "A line of 1,500 octets follows.\n%s\nEnd.\n" % ascii_line(1500), False),
        ("line-10000", "A line of 10,000 octets follows.\n%s\nEnd.\n" % ascii_line(10000), False),
        ("utf8", "8-bit UTF-8 text.\n%s\n%s\n" % (UTF8_FILLER * 2, UTF8_FILLER.upper()), True),
        ("utf8-line-1500", "8-bit UTF-8, one line of 1,500 octets.\n%s\nEnd.\n" % utf8_line(1500), True),
        ("no-final-newline", "The last line of this body has no newline.\nIt ends here", False),
    ]


def message(shape: str, body: str, eight_bit: bool, sender: str, rcpt: str, message_id: str) -> bytes:
    headers = [
        "From: <%s>" % sender,
        "To: <%s>" % rcpt,
        "Subject: mailauth lab shape %s" % shape,
        "Message-ID: <%s>" % message_id,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=%s" % ("utf-8" if eight_bit else "us-ascii"),
        "Content-Transfer-Encoding: %s" % ("8bit" if eight_bit else "7bit"),
    ]
    return ("\n".join(headers) + "\n\n" + body).encode()


def via_sendmail(sender: str, rcpt: str, data: bytes) -> None:
    subprocess.run(["/usr/sbin/sendmail", "-i", "-f", sender, rcpt], input=data, check=True)


def via_submission(sender: str, rcpt: str, data: bytes, user: str, password: str) -> None:
    """Submit one message; a temporary AUTH failure (4xx, before any mail) is retried, as a client would."""
    for attempt in range(5):
        try:
            submit_once(sender, rcpt, data, user, password)
            return
        except smtplib.SMTPAuthenticationError as exc:
            if not 400 <= exc.smtp_code < 500 or attempt == 4:
                raise
            time.sleep(2)


def submit_once(sender: str, rcpt: str, data: bytes, user: str, password: str) -> None:
    with smtplib.SMTP("127.0.0.1", 587, local_hostname="lab-client.invalid", timeout=30) as smtp:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the lab uses Debian's snakeoil certificate
        smtp.ehlo()
        smtp.starttls(context=ctx)
        smtp.ehlo()  # smtplib's auth() would not say EHLO again after STARTTLS
        smtp.user, smtp.password = user, password
        code, reply = smtp.auth("PLAIN", smtp.auth_plain)
        if code != 235:  # smtplib takes 503 for "already authenticated"
            raise SystemExit("AUTH PLAIN as %s: %d %s" % (user, code, reply.decode()))
        # smtplib sends CR LF line ends and dot-stuffs; BODY=8BITMIME as a mail client would.
        smtp.sendmail(sender, [rcpt], data, mail_options=["BODY=8BITMIME"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("token")
    parser.add_argument("sender")
    parser.add_argument("rcpt")
    parser.add_argument("--submission", metavar="USER")
    args = parser.parse_args()
    route = "submission" if args.submission else "sendmail"
    sent = []
    for shape, body, eight_bit in bodies():
        message_id = "%s-%s-%s@%s" % (shape, route, args.token, args.sender.rsplit("@", 1)[1])
        data = message(shape, body, eight_bit, args.sender, args.rcpt, message_id)
        if args.submission:
            via_submission(args.sender, args.rcpt, data, args.submission, os.environ["LAB_PASSWORD"])
        else:
            via_sendmail(args.sender, args.rcpt, data)
        longest = max(len(line) for line in body.encode().split(b"\n"))
        sent.append({"id": message_id, "shape": shape, "route": route, "longest_line": longest})
    print(json.dumps(sent))


if __name__ == "__main__":
    main()
