# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama_proxy role's ACME order and its finish take one set of arguments (a two-step order that must not drift apart)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import yaml

ACME = Path(__file__).resolve().parents[3] / "roles" / "ollama_proxy" / "tasks" / "acme.yml"
MODULE = "community.crypto.acme_certificate"


def _tasks(node: Any) -> Iterator[dict]:
    for task in node or []:
        yield task
        for section in ("block", "rescue", "always"):
            yield from _tasks(task.get(section))


def test_the_order_and_its_finish_share_their_arguments() -> None:
    tasks = yaml.safe_load(ACME.read_text())
    owners = [task for task in tasks if MODULE in (task.get("module_defaults") or {})]
    assert len(owners) == 1, "one module_defaults for %s" % MODULE
    shared = owners[0]["module_defaults"][MODULE]
    assert {"acme_directory", "account_key_src", "csr", "dest", "fullchain_dest", "challenge", "remaining_days", "force"} <= set(shared)
    calls = [task[MODULE] or {} for task in _tasks(tasks) if MODULE in task]
    assert len(calls) == 2, "the order and its finish"
    assert [call for call in calls if call and set(call) != {"data"}] == [], "only the finish adds its own argument, the order's data"
    assert [task for task in tasks if MODULE in task] == [], "every call is inside the block that sets the arguments"
