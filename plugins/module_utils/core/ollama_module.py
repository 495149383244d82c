# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""OllamaModule, the AnsibleModule of every module of the collection: credentials masked in every result, numbers checked."""

from __future__ import annotations

import math
from typing import Any, Dict, Optional

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llmops.ollama.plugins.module_utils.core import urls

# The largest number any numeric option takes (seconds, counts, pages): 11.5 days, a million retries.
MAX_NUMBER = 1_000_000


def number_problem(spec: Dict[str, Any], params: Dict[str, Any]) -> Optional[str]:
    """The first int or float option that is NaN, infinite or absurdly large, as a message naming it (None when all are sane)."""
    for option in sorted(spec):
        kind = spec[option].get("type")
        value = params.get(option)
        if kind not in ("int", "float") or value is None or isinstance(value, bool):
            continue
        if not isinstance(value, (int, float)) or (isinstance(value, float) and not math.isfinite(value)):
            return "%s is %r: give a finite number from 0 to %d" % (option, value, MAX_NUMBER)
        if value > MAX_NUMBER:
            return "%s is %r, more than %d: give a number from 0 to %d%s" % (
                option,
                value,
                MAX_NUMBER,
                MAX_NUMBER,
                " (seconds: %d is 11.5 days)" % MAX_NUMBER if "timeout" in option or "delay" in option or "interval" in option else "",
            )
    return None


def _is_infinite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, str):
        try:
            return not math.isfinite(float(value))
        except ValueError:
            return False
    return False


class OllamaModule(AnsibleModule):
    """An AnsibleModule whose URL-valued options, top-level or nested, never show their credentials.

    Every result, the failures of argument validation included (they come before any code of the
    module runs), passes through :func:`core.urls.mask_params` first: userinfo and secret query
    values of any URL in the parameters join ``no_log_values``, which Ansible removes from the
    whole result (``invocation.module_args``, what ``-vvv`` shows, included) and from warnings.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        problem = number_problem(self.argument_spec, self.params)
        if problem:
            self.fail_json(msg=problem)

    def _load_params(self) -> None:
        """The parameters as given, except that an int option given as an infinity is made a text that Ansible's own
        int check refuses by name (``int(float('inf'))`` would raise OverflowError, a traceback)."""
        super()._load_params()
        for option, value in list(self.params.items()):
            spec = self.argument_spec.get(option) if isinstance(self.argument_spec, dict) else None
            if isinstance(spec, dict) and spec.get("type") == "int" and _is_infinite(value):
                self.params[option] = "%s (not a number)" % value

    def exit_json(self, **kwargs: Any) -> None:  # type: ignore[override]
        urls.mask_params(self)
        super().exit_json(**kwargs)

    def fail_json(self, msg: Any, **kwargs: Any) -> None:  # type: ignore[override]
        urls.mask_params(self)
        super().fail_json(msg, **kwargs)
