# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama_models role's settings filter (where the lock file is, what is wrong) and its lock-file summary lines."""

from __future__ import annotations

import pytest

from ansible_collections.llmops.ollama.plugins.filter.models_settings import models_lock_lines, models_settings


def settings(**changes):
    base = {
        "lock_mode": "write",
        "lock_file": "",
        "lock_controller_file": "",
        "state_dir": "/var/lib/llmops-ollama",
        "playbook_dir": "/play",
        "concurrency": 3,
        "progress_interval": 8,
        "play_hosts": 1,
    }
    base.update(changes)
    return base


def test_the_defaults_have_no_lock_file_and_no_error() -> None:
    got = models_settings(settings(play_hosts=20))
    assert got == {
        "lock_mode": "write",
        "lock_file": "",
        "controller_path": "",
        "from_controller": False,
        "host_lock_file": "",
        "source": "",
        "errors": [],
    }


def test_a_lock_file_on_the_host_is_the_one_written() -> None:
    got = models_settings(settings(lock_file="/etc/models.lock.yml"))
    assert got["host_lock_file"] == "/etc/models.lock.yml" and not got["from_controller"] and got["errors"] == []


def test_a_controller_lock_file_written_from_one_host_goes_through_the_ledger_directory() -> None:
    got = models_settings(settings(lock_controller_file="locks/fleet.lock.yml"))
    assert got["controller_path"] == "/play/locks/fleet.lock.yml"
    assert got["host_lock_file"] == "/var/lib/llmops-ollama/models.lock.yml" and got["errors"] == []
    absolute = models_settings(settings(lock_controller_file="/srv/fleet.lock.yml", lock_file="/etc/m.lock.yml"))
    assert absolute["controller_path"] == "/srv/fleet.lock.yml" and absolute["host_lock_file"] == "/etc/m.lock.yml"


def test_writing_the_controller_lock_file_from_several_hosts_is_refused() -> None:
    got = models_settings(settings(lock_controller_file="fleet.lock.yml", play_hosts=2))
    assert got["errors"] == [
        "ollama_models_lock_mode is write with ollama_models_lock_controller_file: the lock file of the fleet comes from one"
        " reference host, and this play has 2; run it with --limit on that host, then with ollama_models_lock_mode read on the fleet"
    ]


def test_pins_read_from_the_controller_need_the_file(tmp_path) -> None:
    missing = models_settings(settings(lock_mode="read", lock_controller_file="fleet.lock.yml", playbook_dir=str(tmp_path), play_hosts=5))
    path = "%s/fleet.lock.yml" % tmp_path
    assert missing["from_controller"] and missing["host_lock_file"] == "" and missing["source"] == ""
    assert missing["errors"] == [
        "ollama_models_lock_controller_file %s does not exist on the controller: write it first, with ollama_models_lock_mode"
        " write on one reference host (--limit that host)" % path
    ]
    (tmp_path / "fleet.lock.yml").write_text("models: []\n")
    present = models_settings(settings(lock_mode="read", lock_controller_file="fleet.lock.yml", playbook_dir=str(tmp_path), play_hosts=5))
    assert present["source"] == path and present["errors"] == []


def test_read_mode_without_any_lock_file_is_refused() -> None:
    assert models_settings(settings(lock_mode="read"))["errors"] == [
        "ollama_models_lock_mode is read: set ollama_models_lock_file (on the host) or ollama_models_lock_controller_file"
        " (on the controller) to the lock file that pins the models"
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"concurrency": 0}, "ollama_models_concurrency must be from 1 to 16, got 0"),
        ({"concurrency": "17"}, "ollama_models_concurrency must be from 1 to 16, got 17"),
        ({"concurrency": "many"}, "ollama_models_concurrency must be from 1 to 16, got many"),
        ({"progress_interval": 11}, "ollama_models_progress_interval must be from 1 to 10 seconds (a report at least every 15 seconds), got 11"),
    ],
)
def test_settings_out_of_their_range_are_named(changes, message) -> None:
    assert models_settings(settings(**changes))["errors"] == [message]


@pytest.mark.parametrize("value", [1, 16, "4", "2.0", True])
def test_settings_in_range_as_jinja_int_reads_them(value) -> None:
    assert models_settings(settings(concurrency=value))["errors"] == []


def test_lock_lines() -> None:
    written = {"summary": {}, "lock_file_changed": True}
    host = models_settings(settings(lock_file="/etc/m.lock.yml"))
    assert models_lock_lines(written, host) == ["Lock file /etc/m.lock.yml: written"]
    assert models_lock_lines(written, host, check_mode=True) == ["Lock file /etc/m.lock.yml: would be written"]
    assert models_lock_lines({"lock_file_changed": False}, host) == ["Lock file /etc/m.lock.yml: unchanged"]
    assert models_lock_lines({"failed": True, "lock_file_changed": True}, host) == ["Lock file /etc/m.lock.yml: not written (see the warnings)"]
    assert models_lock_lines({}, host) == ["Lock file /etc/m.lock.yml: not written (see the warnings)"]
    assert models_lock_lines(written, models_settings(settings())) == []
    fleet = models_settings(settings(lock_controller_file="/srv/fleet.lock.yml"))
    brought = "Lock file /var/lib/llmops-ollama/models.lock.yml: written, brought to /srv/fleet.lock.yml on the controller"
    assert models_lock_lines(written, fleet, fetched={"changed": True}) == [brought]
    assert models_lock_lines(written, fleet, fetched={"skipped": True}) == ["Lock file /var/lib/llmops-ollama/models.lock.yml: written"]
    assert models_lock_lines(written, fleet, fetched={"failed": True}) == ["Lock file /var/lib/llmops-ollama/models.lock.yml: written"]
    assert models_lock_lines(written, fleet, fetched=None) == ["Lock file /var/lib/llmops-ollama/models.lock.yml: written"]
    reading = models_settings(settings(lock_mode="read", lock_file="/etc/m.lock.yml"))
    assert models_lock_lines(written, reading) == ["Pinned to the lock file /etc/m.lock.yml"]
    controller = models_settings(settings(lock_mode="read", lock_controller_file="/srv/fleet.lock.yml"))
    assert models_lock_lines(written, controller) == ["Pinned to the lock file /srv/fleet.lock.yml on the controller"]
