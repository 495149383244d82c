# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""Tests of the llmops.ollama collection (importable as ``tests`` from the repository root)."""
