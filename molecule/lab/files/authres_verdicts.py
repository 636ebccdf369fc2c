"""The verdicts a receiver recorded, run on the receiver with Debian's python3-authres: every
Authentication-Results header of one delivered message whose authserv-id is this receiver's,
parsed with authres (RFC 8601), not with a regular expression.

Usage: authres_verdicts.py MAILBOX MESSAGE_ID AUTHSERV_ID
MAILBOX is an mbox file (/var/mail/bob), a Maildir (a directory: its INBOX), or dovecot:USER to
find the message in any of the user's folders through Dovecot (doveadm fetch), which also says
which folder holds it (INBOX, Junk).
Prints JSON: one object per method result (method, result, and for DKIM the header.d, header.a
and header.b properties as d, a and b, the names verify_auth.py uses; for SPF smtp.mailfrom and
smtp.helo as mailfrom and helo, and the result comment), in header order, how many headers were
read, the folder, the Received-SPF fields (result, comment, and their key=value pairs such as
identity and envelope-from), and the whole header block as delivered.
"""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import os
import re
import subprocess
import sys

import authres


def messages(where: str, message_id: str) -> list[tuple[str, email.message.Message]]:
    """The messages with this Message-ID, each with the folder that holds it."""
    if where.startswith("dovecot:"):
        user = where.split(":", 1)[1]
        out = subprocess.run(
            ["doveadm", "-f", "json", "fetch", "-u", user, "mailbox hdr", "header", "Message-ID", "<%s>" % message_id],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        found = json.loads(out or "[]")
        return [(m["mailbox"], email.message_from_string(m["hdr"], policy=email.policy.compat32)) for m in found]
    if os.path.isdir(where):
        box: mailbox.Mailbox = mailbox.Maildir(where, factory=None, create=False)
    else:
        box = mailbox.mbox(where, create=False)
    return [(where, m) for m in box if (m.get("Message-ID") or "").strip() == "<%s>" % message_id]


def received_spf(value: str) -> dict:
    """A Received-SPF field (RFC 7208 9.1): its result, the comment and the key=value pairs after it."""
    text = " ".join(value.split())
    result, _sep, rest = text.partition(" ")
    comment = ""
    if rest.startswith("("):
        depth = 0
        for index, char in enumerate(rest):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                comment, rest = rest[1:index], rest[index + 1 :]
                break
    pairs = {k.lower(): v.strip('"') for k, v in re.findall(r'([A-Za-z][A-Za-z0-9-]*)=("[^"]*"|[^;\s]+)', rest)}
    return {"result": result.lower(), "comment": comment, "text": text, **pairs}


def main() -> None:
    where, message_id, authserv_id = sys.argv[1:4]
    found = messages(where, message_id)
    if len(found) != 1:
        raise SystemExit("%d messages with Message-ID <%s> in %s" % (len(found), message_id, where))
    folder, message = found[0]
    headers = [str(value) for value in message.get_all("Authentication-Results") or []]
    results = []
    ours = 0
    for text in headers:
        parsed = authres.AuthenticationResultsHeader.parse("Authentication-Results: " + " ".join(text.split()))
        if parsed.authserv_id.lower() != authserv_id.lower():
            continue  # a header from elsewhere (a forged one included) is not this receiver's verdict
        ours += 1
        for result in parsed.results:
            props = {"%s.%s" % (p.type, p.name): p.value for p in result.properties}
            results.append(
                {
                    "method": result.method,
                    "result": result.result,
                    "comment": result.result_comment or "",
                    "d": props.get("header.d", ""),
                    "a": props.get("header.a", ""),
                    "b": props.get("header.b", ""),
                    "mailfrom": props.get("smtp.mailfrom", ""),
                    "helo": props.get("smtp.helo", ""),
                }
            )
    print(
        json.dumps(
            {
                "message_id": message_id,
                "folder": folder,
                "headers": len(headers),
                "ours": ours,
                "results": results,
                "received_spf": [received_spf(str(v)) for v in message.get_all("Received-SPF") or []],
                "raw_headers": "".join("%s: %s\n" % (k, v) for k, v in message.items()),
            }
        )
    )


if __name__ == "__main__":
    main()
