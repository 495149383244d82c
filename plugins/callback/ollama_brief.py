# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_brief
type: stdout
short_description: The default callback, brief for a converged run, still showing the reports the roles print
version_added: 0.1.0
description:
  - The default callback (P(ansible.builtin.default#callback)) with its options. With O(display_ok_hosts=false) and
    O(display_skipped_hosts=false) a converged host shows what changed, what failed and the recap, as with the default
    callback, and in addition what the roles print for a reader, which the default callback would hide with them
    (the health report, the model sync's summary, the server's report and its warnings).
  - An unchanged result is shown when its action asks for its message to be shown (C(ansible.builtin.debug), and
    C(ansible.builtin.assert) with a message), or when it carries warnings or deprecations; its message is printed as
    its lines (a one-line message on the line of the host). Loop items and C(included:) lines of unchanged results
    stay hidden, and so does the banner of a play under which nothing is shown (a play without hosts).
  - With O(display_ok_hosts=true) it prints exactly what the default callback prints.
  - C(make demo) runs with it, with both options false.
author:
  - llmops.ollama maintainers (@llmops)
extends_documentation_fragment:
  - ansible.builtin.default_callback
  - ansible.builtin.result_format_callback
"""

EXAMPLES = r"""
# ansible.cfg
ansible_config: |
  [defaults]
  stdout_callback = llmops.ollama.ollama_brief
  display_ok_hosts = false
  display_skipped_hosts = false

# or for one run
environment_variable: |-
  ANSIBLE_STDOUT_CALLBACK=llmops.ollama.ollama_brief ANSIBLE_DISPLAY_OK_HOSTS=false ANSIBLE_DISPLAY_SKIPPED_HOSTS=false
"""

from typing import Any, List, Optional

from ansible import constants as C
from ansible.playbook.task_include import TaskInclude
from ansible.plugins.callback.default import CallbackModule as Default


def worth_showing(result: dict) -> bool:
    """An unchanged result a reader needs: a message its action always shows (debug, assert), or warnings."""
    if result.get("warnings") or result.get("deprecations"):
        return True
    return result.get("_ansible_verbose_always") is True and result.get("_ansible_verbose_override") is not True and "msg" in result


def message_lines(msg: Any) -> Optional[List[str]]:
    """A message (a string or a list of strings) as the lines to print, or None for another shape."""
    if isinstance(msg, str):
        return msg.splitlines() or [""]
    if isinstance(msg, list) and all(isinstance(item, (str, int, float, bool)) for item in msg):
        return [str(item) for item in msg]
    return None


class CallbackModule(Default):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "llmops.ollama.ollama_brief"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending_play: Optional[str] = None

    def _brief(self) -> bool:
        return not self.get_option("display_ok_hosts")

    def v2_playbook_on_play_start(self, play: Any) -> None:
        if not self._brief():
            super().v2_playbook_on_play_start(play)
            return
        # the play's banner comes with the first line under it: a play where nothing is shown shows nothing
        name = play.get_name().strip()
        check = " [CHECK MODE]" if play.check_mode and self.get_option("check_mode_markers") else ""
        self._play = play
        self._pending_play = ("PLAY [%s]%s" % (name, check)) if name else ("PLAY%s" % check)

    def _print_task_banner(self, task: Any) -> None:
        if self._pending_play is not None:
            self._display.banner(self._pending_play)
            self._pending_play = None
        super()._print_task_banner(task)

    def v2_playbook_on_no_hosts_matched(self) -> None:
        if not self._brief():
            super().v2_playbook_on_no_hosts_matched()

    def v2_playbook_on_include(self, included_file: Any) -> None:
        if not self._brief():
            super().v2_playbook_on_include(included_file)

    def v2_runner_on_ok(self, result: Any) -> None:
        data = result.result
        if not self._brief() or data.get("changed", False):
            super().v2_runner_on_ok(result)
            return
        if isinstance(result.task, TaskInclude):
            return  # the default callback prints the include's banner, with nothing under it
        if (result.task.loop and "results" in data) or not worth_showing(data):
            return
        if self._last_task_banner != result.task._uuid:
            self._print_task_banner(result.task)
        self._handle_warnings_and_exception(result)
        self._clean_results(data, result.task.action)
        head = "ok: [%s]" % self.host_label(result)
        lines = message_lines(data.get("msg")) if self._run_is_verbose(result) else []
        if lines is None:
            self._display.display("%s => %s" % (head, self._dump_results(data)), color=C.COLOR_OK)
        elif len(lines) == 1 and isinstance(data.get("msg"), str):
            self._display.display("%s => %s" % (head, lines[0]), color=C.COLOR_OK)
        else:
            self._display.display("\n".join([head + (" =>" if lines else "")] + ["    " + line for line in lines]), color=C.COLOR_OK)
