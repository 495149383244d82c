# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A test-only callback: the document of ansible.posix.json, written to a file beside any stdout callback.

One ansible-playbook run then gives a test both views it asserts on: what an operator reads (the stdout
callback of their choice, at their verbosity) and the results as the JSON callback records them.
"""

from __future__ import annotations

DOCUMENTATION = """
    name: json_file
    short_description: The ansible.posix.json document, written to a file
    description:
        - Records every event as ansible.posix.json does and writes its document to O(path) at the end of
          the playbook, instead of to stdout, so that another stdout callback can run beside it.
    type: aggregate
    requirements:
      - enabled in callbacks_enabled, with this directory in callback_plugins (tests only)
    options:
      path:
        description: The file the JSON document is written to.
        type: path
        required: true
        env:
          - name: LLMOPS_TEST_JSON_FILE
      show_custom_stats:
        description: As in ansible.posix.json.
        type: bool
        default: false
      json_indent:
        description: As in ansible.posix.json.
        type: integer
        default: 4
"""

# Ansible reads DOCUMENTATION before the imports, as in plugins/callback/
from ansible_collections.ansible.posix.plugins.callback.json import CallbackModule as JsonCallback  # noqa: E402


class _FileDisplay:
    """Stands in for the display while ansible.posix.json prints its document: the text goes to a file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def display(self, msg: str, *args: object, **kwargs: object) -> None:
        with open(self.path, "w", encoding="utf-8") as handle:
            handle.write(msg)


class CallbackModule(JsonCallback):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "json_file"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats) -> None:
        shown = self._display
        self._display = _FileDisplay(self.get_option("path"))
        try:
            super().v2_playbook_on_stats(stats)
        finally:
            self._display = shown
