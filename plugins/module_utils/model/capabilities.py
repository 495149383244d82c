# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The capabilities Ollama reports for a model (/api/show and /api/tags ``capabilities``), as the options name them.

One constant, apart from model.spec, so that ollama_model_info can offer them as choices without shipping the spec checks.
"""

CAPABILITIES = ("completion", "tools", "insert", "vision", "embedding", "thinking")
