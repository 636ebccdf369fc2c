"""Stand-in for ansible-test's pip bootstrap script: ensurepip, then pip install the arguments.

get-pip.py accepts --no-setuptools / --no-wheel; pip itself does not, so they are dropped.
"""

import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "-q", *args]))
