# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """The inference probe's options, shared by ollama_info and ollama_model_sync (spec: probe_argument_spec() in core/health.py)."""

    DOCUMENTATION = r"""
options:
  probe:
    description:
      - V(version) judges the server by the API reads alone (see the module's description); no model is asked.
      - V(inference) also makes a one-token generate (C(num_predict=1)) on O(probe_model), or an embed when that model only
        embeds (decided by the C(capabilities) the server reports, else by the model family). The server is healthy only
        when it answers within O(probe_timeout); this catches a server whose API answers while its runners hang.
      - The probe loads the model when it is not loaded yet; that load counts into the latency and the timeout.
      - M(llmops.ollama.ollama_info) and M(llmops.ollama.ollama_model_sync) (after the sync) run the same probe.
    type: str
    choices: [version, inference]
    default: version
  probe_model:
    description:
      - The model the inference probe asks. Defaults to the smallest local model on the server.
      - With O(probe=inference), a server without any model is not healthy.
    type: str
  probe_timeout:
    description:
      - Seconds the inference probe may take in all, loading the model included.
    type: float
    default: 60
"""
