# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the benchmarks share: the checkout's paths and how they run ansible-playbook.

Not a benchmark (bench/run.sh skips files whose name starts with an underscore).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = ROOT / ".cache" / "collections"
VENV_BIN = ROOT / ".venv" / "bin"


def ansible_env(workdir: Path, **settings: str) -> dict[str, str]:
    """The environment for ansible-playbook: this checkout's collection and virtualenv, no colour,
    retry files or deprecation warnings, temporary files under workdir/tmp, plus settings."""
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_DEPRECATION_WARNINGS": "0",
            "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
            "PATH": "%s:%s" % (VENV_BIN, env.get("PATH", "")),
        }
    )
    env.update(settings)
    return env


def docker_host(container: str) -> dict[str, str]:
    """Inventory variables of a container reached with the community.docker.docker connection."""
    return {
        "ansible_connection": "community.docker.docker",
        "ansible_host": container,
        "ansible_python_interpreter": "/usr/bin/python3",
    }


def systemd_run_args(image: str) -> list[str]:
    """The end of a ``docker run`` command for a container that boots systemd (the roles manage their
    services through systemd units): the host's cgroup tree writable, tmpfs where systemd expects one."""
    return [
        "--cgroupns=host",
        "-v",
        "/sys/fs/cgroup:/sys/fs/cgroup:rw",
        "--tmpfs",
        "/run",
        "--tmpfs",
        "/run/lock",
        "--tmpfs",
        "/tmp",
        "--stop-signal",
        "SIGRTMIN+3",
        image,
        "/lib/systemd/systemd",
    ]
