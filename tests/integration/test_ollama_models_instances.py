# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama_models role on a host that runs several instances (ollama_server_instances), through a real
ansible-playbook against three simulators that share one models directory:

* ``state: loaded`` loads the model on every instance, and a second run changes nothing;
* a model the sync removes is unloaded on every other instance first: after its deletion no instance can
  unload it any more (Ollama, like the simulator, answers 404 for a name it no longer lists), so it would
  stay in memory there until its keep_alive ran out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.integration.playbook import run_playbook
from tests.ollama_sim.testing import Sim, run_sim

pytestmark = pytest.mark.integration


@pytest.fixture
def instances(tmp_path: Path) -> Iterator[list[Sim]]:
    contexts = [run_sim(tmp_path / "models", rate=200_000_000.0) for _index in range(3)]
    sims = [context.__enter__() for context in contexts]
    try:
        yield sims
    finally:
        for context in reversed(contexts):
            context.__exit__(None, None, None)


def loaded(sim: Sim) -> list[str]:
    return sorted(m["name"] for m in sim.call("GET", "/api/ps")[1]["models"])


def role_vars(sims: list[Sim], tmp_path: Path, models: list) -> dict:
    return {
        "ollama_models_api_url": sims[0].url,
        "ollama_models_registry_url": sims[0].url,
        "ollama_models_models_path": str(sims[0].data),
        "ollama_models_state_dir": str(tmp_path / "state"),
        "ollama_models_instances": [s.url for s in sims],
        "ollama_models_list": models,
    }


def test_loaded_models_load_on_every_instance_and_removed_ones_unload_everywhere_first(instances: list[Sim], tmp_path: Path) -> None:
    declared = [{"name": "smollm2:135m", "state": "loaded", "keep_alive": "1h"}, "all-minilm:latest"]
    first = run_playbook("models_role.yml", role_vars(instances, tmp_path, declared))
    assert first.rc == 0, first.stdout[-3000:]
    assert [loaded(sim) for sim in instances] == [["smollm2:135m"]] * 3, "state: loaded applies to every instance"
    loads = first.results("Load the models declared loaded on the other instances too")["results"]
    assert sorted(r["item"][0] for r in loads if r["changed"]) == sorted(s.url for s in instances[1:])

    again = run_playbook("models_role.yml", role_vars(instances, tmp_path, declared))
    assert again.rc == 0, again.stdout[-3000:]
    assert again.stats["changed"] == 0, [t for t in again.data["plays"][0]["tasks"] if t["hosts"].get("localhost", {}).get("changed")]
    assert [loaded(sim) for sim in instances] == [["smollm2:135m"]] * 3

    # removed: each other instance unloads it before the sync deletes it through instance 0
    removed = [{"name": "smollm2:135m", "state": "absent"}, "all-minilm:latest"]
    for sim in instances:
        sim.clear_requests()
    gone = run_playbook("models_role.yml", role_vars(instances, tmp_path, removed))
    assert gone.rc == 0, gone.stdout[-3000:]
    assert [loaded(sim) for sim in instances] == [[], [], []], "no instance keeps a deleted model in memory"
    for sim in instances:
        assert "smollm2:135m" not in [m["name"] for m in sim.call("GET", "/api/tags")[1]["models"]]
    for sim in instances[1:]:
        unloads = [r for r in sim.requests() if r["path"] == "/api/generate"]
        assert unloads and all(r["status"] == 200 for r in unloads), "unloaded while the name still resolved"
    deletes = [r for sim in instances for r in sim.requests() if r["path"] == "/api/delete"]
    assert len(deletes) == 1, "deleted once, through the sync's instance"

    # nothing left to remove: the other instances are not asked again
    for sim in instances:
        sim.clear_requests()
    quiet = run_playbook("models_role.yml", role_vars(instances, tmp_path, removed))
    assert quiet.rc == 0 and quiet.stats["changed"] == 0, quiet.stdout[-3000:]
    assert not [r for sim in instances[1:] for r in sim.requests() if r["path"] == "/api/generate"]
