"""The verdicts a receiver recorded, run on the receiver with Debian's python3-authres: every
Authentication-Results header of one delivered message whose authserv-id is this receiver's,
parsed with authres (RFC 8601), not with a regular expression.

Usage: authres_verdicts.py MBOX MESSAGE_ID AUTHSERV_ID
Prints JSON: one object per method result (method, result, and for DKIM the header.d, header.a
and header.b properties as d, a and b, the names verify_auth.py uses), in header order, and how
many headers were read.
"""

from __future__ import annotations

import json
import mailbox
import sys

import authres


def main() -> None:
    mbox_path, message_id, authserv_id = sys.argv[1:4]
    box = mailbox.mbox(mbox_path, create=False)
    found = [m for m in box if (m.get("Message-ID") or "").strip() == "<%s>" % message_id]
    if len(found) != 1:
        raise SystemExit("%d messages with Message-ID <%s> in %s" % (len(found), message_id, mbox_path))
    headers = [str(value) for value in found[0].get_all("Authentication-Results") or []]
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
                    "d": props.get("header.d", ""),
                    "a": props.get("header.a", ""),
                    "b": props.get("header.b", ""),
                }
            )
    print(json.dumps({"message_id": message_id, "headers": len(headers), "ours": ours, "results": results}))


if __name__ == "__main__":
    main()
