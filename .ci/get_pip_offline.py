# Copyright: (c) 2026, llmops.ollama contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for the get-pip script that `ansible-test sanity --venv` downloads.

ansible-test fetches its pip bootstrap from a host that is not reachable from
every CI machine (only the package index is). This does the same job with
what the interpreter ships: pip from ensurepip's bundled wheel, then the
requested packages from the package index. The Makefile puts it where
ansible-test looks for a cached copy, only when no real copy is there.
"""

import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}

# ensurepip sets PIP_CONFIG_FILE=/dev/null in os.environ; the install below
# must see the machine's pip configuration (index, CA bundle) again.
environment = dict(os.environ)
ensurepip.bootstrap(upgrade=True)
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args], env=environment))
