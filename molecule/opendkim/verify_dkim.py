"""Verify every DKIM-Signature of a message with dkimpy against given TXT records.

Input (argv[1]): JSON {"records": {"<selector>._domainkey.<domain>": "v=DKIM1; ..."},
"mbox": "<mbox file content>", "tokens": ["..."]}.
Output: JSON {token: [{"a", "s", "d", "h", "ok"}, ...]}, one entry per DKIM-Signature of the
message whose Subject contains the token (null if there is no such message). No DNS is used:
the records are the ones mailauth.core.dkim_key returned, served through dkimpy's dnsfunc.
"""

from __future__ import annotations

import json
import mailbox
import sys
import tempfile

import dkim


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as handle:
        data = json.load(handle)
    records = {name.lower().rstrip(".") + ".": value for name, value in data["records"].items()}

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        value = records.get(name.decode().lower().rstrip(".") + ".")
        return value.encode() if value is not None else None

    with tempfile.NamedTemporaryFile("w", suffix=".mbox", encoding="utf-8") as box:
        box.write(data["mbox"])
        box.flush()
        folder = mailbox.mbox(box.name)
        messages = [folder.get_bytes(key) for key in folder.iterkeys()]
    results: dict = {}
    for token in data["tokens"]:
        found = [m for m in messages if token.encode() in m.split(b"\n\n", 1)[0]]
        if not found:
            results[token] = None
            continue
        verifier = dkim.DKIM(found[-1])
        count = sum(1 for header in verifier.headers if header[0].lower() == b"dkim-signature")
        signatures = []
        for index in range(count):
            ok = verifier.verify(idx=index, dnsfunc=dnsfunc)
            fields = verifier.signature_fields
            entry = {key: fields.get(key.encode(), b"").decode() for key in ("a", "s", "d", "h")}
            entry["ok"] = bool(ok)
            signatures.append(entry)
        results[token] = signatures
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
