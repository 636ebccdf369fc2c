"""Sum up an ansible-playbook run that the ansible.posix.json callback printed (on stdin).

Prints one JSON object: ``changed`` and ``failed`` (task names, every host), ``diffs`` (of the
changed tasks), ``stats`` (changed count per host) and ``hosts`` (per host: the changed and failed
task names and the warnings). Used by the lab's drift run and the bare scenario's plan.
"""

import json
import re
import sys

text = sys.stdin.read()
# The JSON document starts at a line holding only "{" (profile_tasks prints around it).
run = json.JSONDecoder().raw_decode(text, re.search("^[{]$", text, re.M).start())[0]
changed, failed, diffs, hosts = [], [], [], {}
for play in run["plays"]:
    for task in play["tasks"]:
        name = task["task"]["name"]
        for host, result in task["hosts"].items():
            mine = hosts.setdefault(host, {"changed": [], "failed": [], "warnings": []})
            mine["warnings"].extend(result.get("warnings") or [])
            if result.get("failed"):
                failed.append(name)
                mine["failed"].append(name)
            if result.get("changed"):
                changed.append(name)
                mine["changed"].append(name)
                diff = result.get("diff") or []
                diffs.extend(diff if isinstance(diff, list) else [diff])
stats = {host: s["changed"] for host, s in run["stats"].items()}
print(json.dumps({"changed": changed, "failed": failed, "diffs": diffs, "stats": stats, "hosts": hosts}))
