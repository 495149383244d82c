# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The gc_freeze callback: the controller's objects frozen when a task starts, handed back at each play start and at the end."""

from __future__ import annotations

import gc
import os

import pytest

from ansible_collections.llmops.ollama.plugins.callback.gc_freeze import CallbackModule


@pytest.fixture(name="callback")
def fixture_callback():
    gc.unfreeze()
    yield CallbackModule()
    gc.unfreeze()


class Cycle:
    """An object in a reference cycle: only the garbage collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_a_task_start_freezes_what_the_controller_holds(callback) -> None:
    held = [object() for _index in range(100)]
    callback.v2_playbook_on_task_start(object(), False)
    assert gc.get_freeze_count() >= len(held)
    callback.v2_playbook_on_handler_task_start(object())
    assert gc.get_freeze_count() >= len(held)


def test_a_forked_worker_does_not_walk_the_frozen_objects(callback) -> None:
    held = [Cycle() for _index in range(20000)]
    callback.v2_playbook_on_task_start(object(), False)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: a full collection finds none of the controller's objects to walk
        os.close(read)
        tracked = len(gc.get_objects())
        os.write(write, b"%d %d" % (tracked, gc.get_freeze_count()))
        os._exit(0)
    os.close(write)
    tracked, frozen = (int(x) for x in os.read(read, 100).split())
    os.close(read)
    os.waitpid(pid, 0)
    assert frozen >= len(held) and tracked < len(held)


@pytest.mark.parametrize("event", ["play_start", "stats"])
def test_a_play_start_and_the_end_hand_the_objects_back(callback, event) -> None:
    callback.v2_playbook_on_task_start(object(), False)
    garbage = Cycle()
    del garbage  # garbage made before the freeze below: kept while frozen
    callback.v2_playbook_on_task_start(object(), False)
    assert gc.get_freeze_count() > 0
    if event == "play_start":
        callback.v2_playbook_on_play_start(object())
    else:
        callback.v2_playbook_on_stats(object())
    assert gc.get_freeze_count() == 0
    assert gc.collect() >= 1  # the cycle made before the freeze is collected once handed back
