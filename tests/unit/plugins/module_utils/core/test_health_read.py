# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""core.health_read: the facts read from the server are those health_facts builds from the same answers.

(The probe's deadline and timeouts are tested in test_client.py, with the client's transport.)
"""

from __future__ import annotations

from ansible_collections.llmops.ollama.plugins.module_utils.core.health import health_facts
from ansible_collections.llmops.ollama.plugins.module_utils.core.health_read import probe
from tests.unit.fakes.transport import Transport
from tests.unit.plugins.module_utils.core.test_health import PS, TAGS, client


def test_probe_returns_the_same_facts_as_health_facts() -> None:
    transport = Transport(b"Ollama is running", {"version": "0.32.15"}, {"models": TAGS}, {"models": PS})
    assert probe(client(transport)) == health_facts("http://127.0.0.1:11434", "0.32.15", TAGS, PS)
    assert [c["path"] for c in transport.calls] == ["/", "/api/version", "/api/tags", "/api/ps"]
