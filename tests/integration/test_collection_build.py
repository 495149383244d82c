# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The README's install commands: build the collection artifact and install it, as a user would."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.integration.playbook import REPO

pytestmark = pytest.mark.integration


def test_build_and_install_the_collection(tmp_path: Path) -> None:
    bindir = Path(sys.executable).parent
    subprocess.run(
        [str(bindir / "ansible-galaxy"), "collection", "build", str(REPO), "--output-path", str(tmp_path)], check=True, capture_output=True, timeout=120
    )
    artifact = tmp_path / "llmops-ollama-0.1.0.tar.gz"
    assert artifact.exists()
    with tarfile.open(artifact) as tar:
        names = set(tar.getnames())
    for wanted in (
        "MANIFEST.json",
        "plugins/modules/ollama_info.py",
        "plugins/modules/ollama_model.py",
        "plugins/modules/ollama_domain.py",
        "plugins/callback/ollama_audit.py",
        "roles/ollama_server/meta/argument_specs.yml",
        "roles/ollama_proxy/meta/argument_specs.yml",
        "meta/runtime.yml",
    ):
        assert wanted in names, wanted
    assert not any(name.startswith((".venv", ".build", ".ci", "tests/output")) for name in names)

    target = tmp_path / "collections"
    env = {"ANSIBLE_COLLECTIONS_PATH": str(target), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    install = subprocess.run(
        [str(bindir / "ansible-galaxy"), "collection", "install", str(artifact), "-p", str(target), "--no-deps"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    )
    assert "llmops.ollama:0.1.0 was installed successfully" in install.stdout
    doc = subprocess.run(
        [str(bindir / "ansible-doc"), "llmops.ollama.ollama_info"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    )
    assert str(target / "ansible_collections" / "llmops" / "ollama" / "plugins" / "modules" / "ollama_info.py") in doc.stdout
    assert "Asks an Ollama server whether it is running" in doc.stdout


def test_requirements_are_met_by_the_ansible_package() -> None:
    """The README's `install -r collections/requirements.yml`, with the collections of the pinned ansible package as its target.

    Ansible Galaxy is not reachable here; what this shows is that the version
    ranges of requirements.yml accept what the `ansible` package bundles, so
    the command has nothing to fetch for a user of that package.
    """
    install_block = re.search(r"## Install\n+(?:<!--[^\n]*-->\n)?```bash\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    assert install_block, "the README has no Install block"
    line = next(x for x in install_block.group(1).splitlines() if "requirements.yml" in x)
    argv = shlex.split(line, comments=True)
    assert argv == ["ansible-galaxy", "collection", "install", "-r", "collections/requirements.yml"], argv
    import ansible_collections  # the bundled collections of the `ansible` package

    bundled = Path(next(iter(ansible_collections.__path__))).parent
    env = {"ANSIBLE_COLLECTIONS_PATH": str(bundled), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "HOME": str(Path.home())}
    run = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, env=env, cwd=str(REPO))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Nothing to do. All requested collections are already installed." in run.stdout


def test_execution_environment_definition_makes_a_build_context(tmp_path: Path) -> None:
    """ansible-builder validates execution-environment.yml (schema v3) and writes the build context AWX users build.

    The image itself is not built here: its base image and Ansible Galaxy are not reachable.
    """
    bindir = Path(sys.executable).parent
    context = tmp_path / "context"
    run = subprocess.run(
        [str(bindir / "ansible-builder"), "create", "-f", "execution-environment.yml", "-c", str(context)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=str(REPO),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    build = context / "_build"
    collections = yaml.safe_load((build / "requirements.yml").read_text())["collections"]
    assert [c["name"] for c in collections] == ["llmops.ollama", "community.docker", "community.crypto", "ansible.posix"]
    assert (build / "requirements.txt").read_text() == (REPO / "requirements.txt").read_text()
    assert (build / "bindep.txt").read_text() == (REPO / "bindep.txt").read_text()
    containerfile = (context / "Dockerfile").read_text()
    assert 'ANSIBLE_INSTALL_REFS="ansible-core>=2.18,<2.20 ansible-runner"' in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    assert "RUN /output/scripts/install-from-bindep" in containerfile
