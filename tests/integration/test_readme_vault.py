# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The README's ansible-vault commands, run as written in a copy of the inventory, passwords typed at a terminal."""

from __future__ import annotations

import json
import os
import pty
import re
import shlex
import shutil
import sys
import time
from pathlib import Path

from tests.integration.playbook import COLLECTIONS, REPO, ensure_collection_link

PASSWORD = "correct horse battery staple"
PROMPT = re.compile(rb"Vault password[^:\n]*:$")  # also "New Vault password:" and "Confirm New Vault password:"


def readme_vault_commands() -> list[str]:
    """The lines of the README's bash block that encrypts the example vault."""
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    block = next(b for b in blocks if "ansible-vault encrypt" in b)
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def run_at_terminal(argv: list[str], cwd: Path, timeout: float = 120) -> tuple[int, str]:
    """Run argv with a pseudo-terminal, typing the password at every vault prompt; return rc and what it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_NOCOLOR="1",
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    )
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, as typed
        os.chdir(str(cwd))
        os.execvpe(argv[0], argv, env)  # noqa: S606 (argv is a README command, split without a shell)
    output, pending = b"", b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            pending += chunk
            if PROMPT.search(pending.rstrip()):
                os.write(fd, PASSWORD.encode() + b"\n")
                pending = b""
        else:
            os.kill(pid, 9)
    finally:
        status = os.waitpid(pid, 0)[1]
        os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_readme_vault_commands_encrypt_and_open_the_example_vault(tmp_path: Path) -> None:
    ensure_collection_link()
    for part in ("inventory", "playbooks", "ansible.cfg"):
        source = REPO / part
        (shutil.copytree if source.is_dir() else shutil.copy)(str(source), str(tmp_path / part))
    commands = readme_vault_commands()
    assert [c.split()[0] for c in commands] == ["cp", "ansible-vault", "ansible-inventory", "ansible-playbook"], commands
    vault = tmp_path / "inventory" / "example" / "group_vars" / "all" / "vault.yml"

    copy, encrypt, inventory, playbook = (shlex.split(c) for c in commands)
    assert run_at_terminal(copy, tmp_path)[0] == 0
    plain = vault.read_text()
    assert "replace-with-a-long-random-token" in plain

    rc, printed = run_at_terminal(encrypt, tmp_path)
    assert rc == 0, printed
    assert "Encryption successful" in printed
    sealed = vault.read_text()
    assert sealed.startswith("$ANSIBLE_VAULT;1.1;AES256\n")
    assert "replace-with-a-long-random-token" not in sealed and "vault_ollama_api_keys" not in sealed

    rc, printed = run_at_terminal(inventory, tmp_path)
    assert rc == 0, printed
    host_vars = json.loads(printed[printed.index("{") :])
    assert host_vars["vault_ollama_api_keys"] == ["replace-with-a-long-random-token"], "the vault did not open"
    assert host_vars["ollama_api_key"] == "{{ vault_ollama_api_keys[0] }}"
    assert host_vars["ollama_server_gpu"] == "nvidia", "gpu-01 is in the gpu group"

    rc, printed = run_at_terminal([*playbook, "--list-hosts"], tmp_path)
    assert rc == 0, printed
    assert all(host in printed for host in ("gpu-01.example.com", "gpu-02.example.com", "cpu-01.example.com")), printed

    rc, printed = run_at_terminal(["ansible-inventory", "-i", "inventory/example", "--host", "gpu-01.example.com"], tmp_path)
    assert rc != 0 and "vault" in printed.lower(), "without the password the vault must stay shut"
