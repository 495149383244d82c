# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: gc_freeze
type: aggregate
short_description: Keeps the controller's garbage collector out of the workers it forks (less controller time per host)
version_added: 0.2.0
description:
  - C(ansible-playbook) forks a worker process for each task on each host. A worker starts with a copy of the
    controller's memory, and Python's garbage collector, when it runs a full collection in that worker, walks every
    object the controller had made (the inventory, the plays, the variables) before the worker's own. That is tens of
    milliseconds per worker on a fleet, paid again on each host and task.
  - This callback moves the objects the controller holds when a task starts to Python's permanent generation
    (C(gc.freeze()), as the Python documentation advises before C(fork())), so the workers of that task never walk them.
    Measured on C(site.yml) with 20 converged hosts, it removes the full collections that took about a fifth of the
    workers' time (see C(docs/architecture.md) of the collection).
  - What it keeps in memory, and for how long. Frozen objects are not collected, so a reference cycle that became
    garbage before a task started is kept. Everything frozen is handed back to the collector (C(gc.unfreeze())) when
    each play starts (each batch of a C(serial) play is a play start) and when the run ends. The memory of the garbage
    of one play or batch is the bound.
  - It changes nothing else. It prints nothing, writes nothing, and reads no task or result.
  - Enable it with C(callbacks_enabled = llmops.ollama.gc_freeze) in C(ansible.cfg) (the collection's own C(ansible.cfg)
    does).
author:
  - llmops.ollama maintainers (@llmops)
requirements:
  - enable in configuration
"""

import gc

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    """Freeze the controller's objects before the workers of each task fork; hand them back at each play start and at the end."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "llmops.ollama.gc_freeze"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_play_start(self, play: object) -> None:
        gc.unfreeze()

    def v2_playbook_on_task_start(self, task: object, is_conditional: bool) -> None:
        gc.freeze()

    def v2_playbook_on_handler_task_start(self, task: object) -> None:
        gc.freeze()

    def v2_playbook_on_stats(self, stats: object) -> None:
        gc.unfreeze()
