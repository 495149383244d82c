# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The stdout callback llmops.ollama.ollama_brief (make demo's): a real ansible-playbook run.

With ok and skipped results hidden it shows changes, failures, warnings and the messages of debug and assert
tasks (the roles' reports), and nothing else of an unchanged run; with them shown, the default callback's output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.playbook import run_playbook

pytestmark = pytest.mark.integration

WARNING_MODULE = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule
module = AnsibleModule(argument_spec={})
module.warn("the disk check was skipped: set some_variable")
module.exit_json(changed=False)
"""

PLAYBOOK = """
- name: A play whose tasks print, change and fail
  hosts: all
  gather_facts: false
  tasks:
    - name: An unchanged task without a message
      ansible.builtin.set_fact:
        quiet_fact: 1
    - name: A skipped task
      ansible.builtin.debug:
        msg: never shown
      when: false
    - name: A report of one line
      ansible.builtin.debug:
        msg: Ollama answers at http://127.0.0.1:1
    - name: A report of several lines
      ansible.builtin.assert:
        that: true
        success_msg: ["api: http://127.0.0.1:1", "healthy: True"]
    - name: An unchanged loop
      ansible.builtin.debug:
        msg: "item {{ item }}"
      loop: [1, 2]
    - name: A module that warns
      warn_once:
    - name: A change
      ansible.builtin.command: "true"
      changed_when: true
    - name: A failure
      ansible.builtin.fail:
        msg: the failure's reason
      ignore_errors: true
    - name: An include
      ansible.builtin.include_tasks: included.yml

- name: A play without hosts
  hosts: nobody_here
  gather_facts: false
  tasks:
    - name: Never runs
      ansible.builtin.debug:
        msg: never
"""


def run(tmp_path: Path, show_ok: bool) -> str:
    (tmp_path / "library").mkdir(exist_ok=True)
    (tmp_path / "library" / "warn_once.py").write_text(WARNING_MODULE)
    (tmp_path / "included.yml").write_text("- name: An included task\n  ansible.builtin.set_fact:\n    other_fact: 2\n")
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    flag = "true" if show_ok else "false"
    env = {
        "ANSIBLE_STDOUT_CALLBACK": "llmops.ollama.ollama_brief",
        "ANSIBLE_DISPLAY_OK_HOSTS": flag,
        "ANSIBLE_DISPLAY_SKIPPED_HOSTS": flag,
        "ANSIBLE_LIBRARY": str(tmp_path / "library"),
    }
    done = run_playbook(tmp_path / "play.yml", env=env)
    assert done.rc == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_brief_output_shows_reports_changes_failures_and_warnings_only(tmp_path: Path) -> None:
    out = run(tmp_path, show_ok=False)
    assert "ok: [localhost] => Ollama answers at http://127.0.0.1:1\n" in out, out
    assert "ok: [localhost] =>\n    api: http://127.0.0.1:1\n    healthy: True\n" in out, out
    assert "the disk check was skipped: set some_variable" in out, "a warning of an unchanged task is shown"
    assert "TASK [A change]" in out and "changed: [localhost]" in out
    assert "the failure's reason" in out and "...ignoring" in out
    for hidden in ("An unchanged task without a message", "A skipped task", "never shown", "An unchanged loop", "item 1", "included:", "An include"):
        assert hidden not in out, (hidden, out)
    assert "A play without hosts" not in out and "no hosts matched" not in out, "the banner of a play under which nothing is shown"
    assert out.count("PLAY [A play whose tasks print, change and fail]") == 1
    assert "changed=1" in out and "ignored=1" in out, "the recap"
    tasks = [line for line in out.splitlines() if line.startswith("TASK [")]
    assert len(tasks) == 5, tasks  # the two reports, the warning, the change, the failure


def test_with_ok_hosts_shown_it_prints_what_the_default_callback_prints(tmp_path: Path) -> None:
    brief = run(tmp_path, show_ok=True)
    default = run_playbook(
        tmp_path / "play.yml",
        env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default", "ANSIBLE_LIBRARY": str(tmp_path / "library")},
    )
    assert default.rc == 0
    assert "included:" in brief and "item 1" in brief and "no hosts matched" in brief
    assert brief == default.stdout + default.stderr, "the same lines, as long as nothing differs in the run"
