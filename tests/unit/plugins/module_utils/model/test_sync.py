# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the sync (module_utils/_sync.py): input checks, the lock file, and runs against the fake Ollama of test_models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, List

import pytest
import yaml

from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import DOWNLOADING, OK, QUEUED, Ledger
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.model.lock_file import parse_lock, render_lock
from ansible_collections.llmops.ollama.plugins.module_utils.model.plan import ModelFacts, plan_model
from ansible_collections.llmops.ollama.plugins.module_utils.model.records import ServerState
from ansible_collections.llmops.ollama.plugins.module_utils.model.sync import Sync
from ansible_collections.llmops.ollama.plugins.module_utils.model.sync_input import SyncError, check_protect, parse_models, protected_by
from ansible_collections.llmops.ollama.plugins.module_utils.model.sync_output import failure_text, table_text
from tests.unit.plugins.module_utils.model.test_lifecycle import FakeOllama, manager

# ---------------------------------------------------------------------------- input


def test_models_as_names_and_dicts() -> None:
    declared, warnings = parse_models(
        ["llama3.2:1b", {"name": "qwen2.5", "priority": "high", "state": "loaded", "keep_alive": "10m"}, {"name": "gone", "state": "absent"}]
    )
    assert [(d.spec.name.display, d.spec.state, d.priority, d.index) for d in declared] == [
        ("llama3.2:1b", "present", "normal", 0),
        ("qwen2.5:latest", "loaded", "high", 1),
        ("gone:latest", "absent", "normal", 2),
    ]
    assert declared[1].spec.keep_alive == "10m"
    assert warnings == []
    assert sorted(d.rank for d in declared) == [(0, 1), (1, 0), (1, 2)]


def test_custom_models_and_flags() -> None:
    declared, _warnings = parse_models([{"name": "bot", "from": "llama3.2:1b", "system": "Hi."}, {"name": "x", "update": "yes", "force": False}])
    assert declared[0].spec.custom and declared[0].spec.definition == {"from": "llama3.2:1b", "system": "Hi."}
    assert declared[1].spec.update is True and declared[1].spec.force is False


def test_option_warnings_name_the_entry() -> None:
    _declared, warnings = parse_models([{"name": "x", "keep_alive": 300}])
    assert warnings == ["models[0] (x): keep_alive and options apply to state loaded; with state present they are not used"]


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ("llama3.2", "models must be a list of model names or dictionaries, got str"),
        (["a", "A:latest"], "models[0] (a) and models[1] (A:latest) are the same model, A:latest: declare each model once"),
        (
            [{"name": "a", "priorty": "high"}],
            "models[0] has an unknown key 'priorty' (did you mean 'priority'?); the keys of a model are: name, state, priority",
        ),
        ([{"name": "a", "colour": "red"}], "models[0] has an unknown key 'colour'; the keys of a model are"),
        ([{"name": "a", "priority": "HIGH"}], "models[0] (a): invalid priority 'HIGH': choose one of high, normal, low"),
        ([{"name": "a", "state": "started"}], "models[0] (a): invalid state 'started': choose one of present, loaded, absent, unloaded"),
        ([None], "models[0] must be a model name or a dictionary with a name, got None (null)"),
        ([{"name": ""}], "models[0] has no name: every model needs a non-empty name string, got ''"),
        ([{"name": "a", "force": "often"}], "models[0] (a): force must be a boolean (true or false), got 'often' (str)"),
        ([{"name": "a", "digest": 5}], "models[0] (a): digest must be a string such as sha256:<64 hex>, got int"),
        ([{"name": "a", "digest": "sha256:12"}], "models[0] (a): invalid digest"),
        (["a::b"], "models[0] (a::b): invalid model name"),
        ([{"name": "a", "state": "absent", "force": True}], "models[0] (a): force re-creates a model"),
    ],
)
def test_bad_models(models: Any, message: str) -> None:
    with pytest.raises(SyncError) as error:
        parse_models(models)
    assert message in str(error.value)


def test_protect_globs() -> None:
    assert check_protect(["Llama3.2:*", "hf.co/*", "*embed*", "qwen[0-9]*", "x[!a]"]) == ["llama3.2:*", "hf.co/*", "*embed*", "qwen[0-9]*", "x[!a]"]
    assert check_protect(None) == []
    assert protected_by(parse_name("nomic-embed-text"), ["nomic-embed-text"]) == "nomic-embed-text", ":latest may be left out"
    assert protected_by(parse_name("llama3.2:1b"), ["llama3.2"]) is None, "another tag is another model"
    assert protected_by(parse_name("hf.co/bartowski/x:q4"), ["hf.co/*"]) == "hf.co/*"
    assert protected_by(parse_name("llama3.2:1b"), ["registry.ollama.ai/library/llama*"]) == "registry.ollama.ai/library/llama*"
    assert protected_by(parse_name("Big:1B"), ["big:1b"]) == "big:1b"


@pytest.mark.parametrize(
    ("globs", "message"),
    [
        ("x", "protect must be a list of globs, got str"),
        ([""], "protect[0] is empty"),
        (["ok", "  "], "protect[1] is empty"),
        (["my model"], "protect[0] 'my model' is not a valid glob: ' ' cannot be part of a model name"),
        (["a$b"], "'$' cannot be part of a model name"),
        (["llama*\n"], "'\\n' cannot be part of a model name"),
        (["llama[3"], "the '[' at position 5 is never closed (or its set is empty)"),
        (["llama[]"], "never closed"),
        (["qwen]"], "']' at position 4 closes no '['"),
    ],
)
def test_bad_protect(globs: Any, message: str) -> None:
    with pytest.raises(SyncError) as error:
        check_protect(globs)
    assert message in str(error.value)


# ---------------------------------------------------------------------------- lock file

DIGEST_A = "a" * 64
DIGEST_B = "b" * 64


def test_lock_round_trip_and_hand_edits() -> None:
    text = render_lock([{"name": "llama3.2:1b", "digest": "sha256:" + DIGEST_A, "size": 12}, {"name": "x:latest", "digest": "sha256:" + DIGEST_B, "size": 3}])
    assert text.splitlines()[2:6] == [
        '  "models": [',
        '    {"name": "llama3.2:1b", "digest": "sha256:%s", "size": 12},' % DIGEST_A,
        '    {"name": "x:latest", "digest": "sha256:%s", "size": 3}' % DIGEST_B,
        "  ]",
    ]
    assert yaml.safe_load(text) == json.loads(text), "JSON: YAML tools read it as it is"
    pins = parse_lock(text, "f")
    assert pins == {
        "registry.ollama.ai/library/llama3.2:1b": {"name": "llama3.2:1b", "digest": DIGEST_A, "size": 12},
        "registry.ollama.ai/library/x:latest": {"name": "x:latest", "digest": DIGEST_B, "size": 3},
    }
    # a YAML lock file of an earlier version (here hand-edited) is still read where the host has PyYAML
    edited = "---\n# pinned for the fleet\nmodels:\n  - name: 'llama3.2:1b'   # the small one\n    digest: %s\n" % DIGEST_A.upper()
    assert parse_lock(edited, "f")["registry.ollama.ai/library/llama3.2:1b"]["digest"] == DIGEST_A
    assert parse_lock('{"models": [{"name": "a", "digest": "%s"}]}' % DIGEST_A, "f")["registry.ollama.ai/library/a:latest"]["size"] == 0
    assert parse_lock(render_lock([]), "f") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello", "the lock file f has no 'models' list"),
        ("models:\n  name: a\n", "the lock file f has no 'models' list"),
        ("models: [a\n", "the lock file f cannot be read: it is neither JSON"),
        ('{"models": 3}', "has no 'models' list"),
        ("models:\n  - name: a\n", "f: models[0] needs a name and a digest"),
        ("models:\n  - name: a\n    digest: sha256:12\n", "f: models[0]: invalid digest"),
        ("models:\n  - name: a\n    digest: %s\n  - name: a:latest\n    digest: %s\n" % (DIGEST_A, DIGEST_A), "a:latest is listed twice"),
    ],
)
def test_bad_lock(text: str, message: str) -> None:
    with pytest.raises(SyncError) as error:
        parse_lock(text, "f")
    assert message in str(error.value)


def test_lock_pins_models_and_refuses_what_it_does_not_list() -> None:
    pins = parse_lock(render_lock([{"name": "a", "digest": DIGEST_A}, {"name": "bot", "digest": DIGEST_B}]), "f")
    declared, _warnings = parse_models(["a", {"name": "bot", "from": "a"}, {"name": "old", "state": "absent"}], pins, "f")
    assert (declared[0].spec.digest, declared[0].spec.update) == (DIGEST_A, True)
    assert (declared[1].spec.digest, declared[1].spec.update) == (DIGEST_B, False), "custom models are pinned, never updated"
    assert declared[2].spec.digest is None
    with pytest.raises(SyncError, match="the lock file f pins no digest for c, d; run the sync once with lock_mode: write"):
        parse_models(["a", "c", "d"], pins, "f")
    with pytest.raises(SyncError, match=r"differs from sha256:a+ in the lock file f; remove one of the two pins"):
        parse_models([{"name": "a", "digest": DIGEST_B}], pins, "f")


# ---------------------------------------------------------------------------- runs against the fake server


@pytest.fixture
def fake() -> FakeOllama:
    return FakeOllama()


def declare(*models: Any) -> list:
    return parse_models(list(models))[0]


def run_sync(fake: FakeOllama, tmp_path: Path, models: List[Any], check_mode: bool = False, **kwargs: Any) -> tuple:
    mgr = manager(fake, tmp_path, check_mode=check_mode, max_concurrent_pulls=kwargs.get("host_limit", 3))
    kwargs.setdefault("poll", 0.02)
    sync = Sync(mgr, mgr.ledger, declare(*models), **kwargs)
    return sync, sync.run()


def pulls(fake: FakeOllama) -> list:
    return [payload["model"] for method, path, payload in fake.requests if path == "/api/pull"]


def test_pulls_start_by_priority_then_declaration(fake: FakeOllama, tmp_path: Path) -> None:
    for name in ("a", "b", "c", "d", "e"):
        fake.publish(name)
    fake.put("present")
    models = [{"name": "a", "priority": "low"}, "b", {"name": "c", "priority": "high"}, "present", "d", {"name": "e", "priority": "high"}]
    sync, outcome = run_sync(fake, tmp_path, models, concurrency=1)
    assert pulls(fake) == ["c:latest", "e:latest", "b:latest", "d:latest", "a:latest"]
    assert [(r["name"], r["action"]) for r in outcome["results"]] == [
        ("a:latest", "pulled"),
        ("b:latest", "pulled"),
        ("c:latest", "pulled"),
        ("present:latest", "unchanged"),
        ("d:latest", "pulled"),
        ("e:latest", "pulled"),
    ]
    assert [step["name"] for step in outcome["plan"]] == ["c:latest", "e:latest", "b:latest", "d:latest", "a:latest"]
    assert outcome["summary"]["added"] == 5 and outcome["summary"]["unchanged"] == 1
    assert outcome["changed"] is True
    assert {record["status"] for record in sync.ledger.records().values()} == {OK}


def test_concurrency_runs_pulls_at_once(fake: FakeOllama, tmp_path: Path) -> None:
    active: List[int] = [0]
    peak: List[int] = [0]
    gate = threading.Lock()
    original = fake.stream

    def slow_stream(method: str, path: str, payload: Any = None, timeout: Any = None) -> Any:
        with gate:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            threading.Event().wait(0.05)
            yield from original(method, path, payload, timeout)
        finally:
            with gate:
                active[0] -= 1

    fake.stream = slow_stream  # type: ignore[method-assign]
    for name in ("a", "b", "c", "d", "e"):
        fake.publish(name)
    _sync, outcome = run_sync(fake, tmp_path, ["a", "b", "c", "d", "e"], concurrency=2)
    assert peak[0] == 2
    assert outcome["summary"]["added"] == 5


def test_check_mode_plans_everything_and_changes_nothing(fake: FakeOllama, tmp_path: Path) -> None:
    fake.publish("new")
    fake.put("keep")
    fake.put("extra")
    fake.put("loaded")
    fake.loaded["registry.ollama.ai/library/loaded:latest"] = dict(fake.models["registry.ollama.ai/library/loaded:latest"])
    _sync, outcome = run_sync(fake, tmp_path, ["keep", "new", {"name": "loaded", "state": "unloaded"}], check_mode=True, exclusive=True)
    assert fake.mutations() == []
    assert not (tmp_path / "state").exists()
    assert [(s["name"], s["phase"], s["actions"]) for s in outcome["plan"]] == [
        ("extra:latest", "remove", ["deleted"]),
        ("loaded:latest", "unload", ["unloaded"]),
        ("new:latest", "pull", ["pulled"]),
    ]
    assert [row["name"] for row in outcome["after"]] == ["keep:latest", "loaded:latest", "new:latest"]
    assert table_text(outcome["after"]).splitlines()[1].endswith("present")
    assert outcome["summary"] == {
        "added": 1,
        "updated": 0,
        "removed": 1,
        "loaded": 0,
        "unloaded": 1,
        "unchanged": 1,
        "failed": 0,
        "unavailable": 0,
        "skipped": 0,
    }


def test_exclusive_keeps_protected_models_and_custom_bases(fake: FakeOllama, tmp_path: Path) -> None:
    for name in ("keep", "base", "embed-x", "gone1", "gone2"):
        fake.put(name)
    _sync, outcome = run_sync(fake, tmp_path, ["keep", {"name": "bot", "from": "base", "system": "x"}], exclusive=True, protect=["embed-*"])
    assert sorted(fake.models) == [
        "registry.ollama.ai/library/base:latest",
        "registry.ollama.ai/library/bot:latest",
        "registry.ollama.ai/library/embed-x:latest",
        "registry.ollama.ai/library/keep:latest",
    ]
    assert outcome["protected"] == [
        {"name": "base:latest", "reason": "the base of the custom model bot:latest"},
        {"name": "embed-x:latest", "reason": "protect 'embed-*'"},
    ]
    assert [(r["name"], r["action"], r["declared"]) for r in outcome["results"][2:]] == [("gone1:latest", "removed", False), ("gone2:latest", "removed", False)]
    assert outcome["summary"]["removed"] == 2 and outcome["summary"]["added"] == 1


def test_fail_fast_starts_nothing_after_a_failure(fake: FakeOllama, tmp_path: Path) -> None:
    fake.publish("a")
    fake.publish("b")
    sync, outcome = run_sync(fake, tmp_path, ["a", {"name": "missing", "priority": "high"}, "b"], concurrency=1, fail_fast=True)
    assert pulls(fake) == ["missing:latest"]
    assert [r["action"] for r in outcome["results"]] == ["skipped", "failed", "skipped"]
    assert outcome["summary"]["skipped"] == 2 and outcome["summary"]["failed"] == 1
    assert outcome["unavailable"] == ["a:latest", "missing:latest", "b:latest"]
    text = failure_text(outcome["failures"], outcome["skipped"], 3)
    assert text.startswith("1 of 3 models failed: missing:latest: model 'missing:latest' not found")
    assert text.endswith("not started because fail_fast is on: a:latest, b:latest")
    assert sync.ledger.read("a")["status"] == "absent", "a skipped model is not left queued"


def test_without_fail_fast_the_others_complete(fake: FakeOllama, tmp_path: Path) -> None:
    fake.publish("a")
    fake.publish("b")
    _sync, outcome = run_sync(fake, tmp_path, ["a", "missing", "b"], concurrency=2)
    assert [r["action"] for r in outcome["results"]] == ["pulled", "failed", "pulled"]
    assert outcome["lock"] == [
        {"name": "a:latest", "digest": "sha256:" + fake.models["registry.ollama.ai/library/a:latest"]["digest"], "size": 1110},
        {"name": "b:latest", "digest": "sha256:" + fake.models["registry.ollama.ai/library/b:latest"]["digest"], "size": 1110},
    ]


def test_a_second_process_waits_for_the_model_and_finds_it_pulled(fake: FakeOllama, tmp_path: Path) -> None:
    fake.publish("shared")
    ledger = Ledger.open(str(tmp_path / "state"))
    held = ledger.try_model_lock("shared")
    assert held is not None
    ledger.set_status("shared", DOWNLOADING, "pulling", operation="pull", pid=os.getppid())

    def other_process_finishes() -> None:
        fake._install(parse_name("shared"))  # pylint: disable=protected-access
        ledger.set_status("shared", OK, "pulled")
        held.release()

    timer = threading.Timer(0.3, other_process_finishes)
    timer.start()
    try:
        _sync, outcome = run_sync(fake, tmp_path, ["shared"])
    finally:
        timer.join()
    assert pulls(fake) == []
    entry = outcome["results"][0]
    assert (entry["action"], entry["changed"]) == ("unchanged", False)
    assert entry["message"] == "unchanged; pulled by process %d on this host while this sync waited for it" % os.getppid()


def test_pulls_wait_for_a_host_slot_in_line(fake: FakeOllama, tmp_path: Path) -> None:
    fake.publish("a")
    fake.publish("b")
    ledger = Ledger.open(str(tmp_path / "state"))
    slot = ledger.try_pull_slot(1)
    assert slot is not None and slot.index == 0
    assert ledger.try_pull_slot(1) is None
    seen: list = []
    original = Ledger.set_status

    def spy(self: Ledger, name: Any, status: str, message: str = "", operation: Any = None, **fields: Any) -> Any:
        if status == QUEUED:
            seen.append((parse_name(name).display if isinstance(name, str) else name.display, fields.get("queue_position")))
        return original(self, name, status, message, operation, **fields)

    Ledger.set_status = spy  # type: ignore[method-assign]
    timer = threading.Timer(0.3, slot.release)
    timer.start()
    try:
        _sync, outcome = run_sync(fake, tmp_path, ["a", "b"], host_limit=1)
    finally:
        timer.join()
        Ledger.set_status = original  # type: ignore[method-assign]
    assert seen[:2] == [("a:latest", 1), ("b:latest", 2)]
    assert ("b:latest", 1) in seen
    assert outcome["summary"]["added"] == 2


def test_interrupted_pulls_are_marked_and_resumed(fake: FakeOllama, tmp_path: Path) -> None:
    fake.publish("big", size=1000)
    fake.partial["registry.ollama.ai/library/big:latest"] = 600
    ledger = Ledger.open(str(tmp_path / "state"))
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True).stdout)
    ledger.set_status("big", DOWNLOADING, "pulling", operation="pull", pid=dead, started_at="2026-01-01T00:00:00+00:00")
    layer = json.loads(fake.registry["registry.ollama.ai/library/big:latest"])["layers"][0]["digest"]
    ledger.update("big", progress={"completed": 600, "total": 1110, "layers": {layer: 600}})  # as the progress writer records it
    ledger.set_status("small", QUEUED, "queued", operation="pull", pid=dead)
    ledger.log("big", "pull-started")
    fake.publish("small")

    preview_sync, preview = run_sync(fake, tmp_path, ["big"], check_mode=True)
    assert [entry["name"] for entry in preview["interrupted"]] == ["big:latest", "small:latest"]
    assert preview_sync.ledger.records()["registry.ollama.ai/library/big:latest"]["interrupted"] is True
    assert "interrupted_pid" not in ledger.records()["registry.ollama.ai/library/big:latest"], "check mode marks nothing"

    _sync, outcome = run_sync(fake, tmp_path, ["big"])
    assert sorted((entry["name"], entry["pid"], entry["status"], entry["completed"]) for entry in outcome["interrupted"]) == [
        ("big:latest", dead, "downloading", 600),
        ("small:latest", dead, "queued", None),
    ]
    entry = outcome["results"][0]
    assert entry["action"] == "pulled"
    assert "the earlier pull by process %d stopped at 600 B of 1.1 KB (interrupted); resumed" % dead in entry["message"]
    assert entry["bytes"] == 400 + 110, "the pull resumed from the partial layer (400 B more), and fetched the config blob (110 B)"
    small = ledger.read("small")
    assert (small["status"], small["interrupted"], small["interrupted_pid"]) == ("paused", True, dead)
    assert [e["event"] for e in ledger.log_entries("big")] == ["pull-started", "interrupted", "pull-started", "pulled"]
    assert outcome["unavailable"] == []


def test_unavailable_counts_models_the_ledger_knew(fake: FakeOllama, tmp_path: Path) -> None:
    fake.put("here")
    ledger = Ledger.open(str(tmp_path / "state"))
    ledger.set_status("vanished", OK, "pulled")
    _sync, outcome = run_sync(fake, tmp_path, ["here"])
    assert outcome["unavailable"] == ["vanished:latest"]
    assert outcome["summary"]["unavailable"] == 1 and outcome["changed"] is False


def needs_pull(spec: Any, state: ServerState) -> bool:
    """Whether the plan of a model pulls (what puts it into the sync's pull phase)."""
    facts = ModelFacts(spec, entry=state.model(spec.name), loaded=state.loaded_entry(spec.name), manifest_read=True)
    return plan_model(facts).pulls


def test_needs_pull() -> None:
    state = ServerState([{"name": "have:latest", "digest": DIGEST_A}], [])
    assert needs_pull(declare("missing")[0].spec, state)
    assert not needs_pull(declare("have")[0].spec, state)
    assert needs_pull(declare({"name": "have", "update": True})[0].spec, state)
    assert not needs_pull(declare({"name": "have", "update": True, "digest": DIGEST_A})[0].spec, state)
    assert needs_pull(declare({"name": "have", "force": True})[0].spec, state)
    assert not needs_pull(declare({"name": "missing", "state": "absent"})[0].spec, state)
    assert not needs_pull(declare({"name": "bot", "from": "have"})[0].spec, state), "custom models are created after the pulls"


def test_a_custom_model_whose_base_is_missing_waits_for_a_host_pull_slot(fake: FakeOllama, tmp_path: Path) -> None:
    """Ollama pulls a missing base during /api/create: that counts against the host's pull slots like any pull."""
    fake.put("have")
    busy = Ledger.open(str(tmp_path / "state")).try_pull_slot(1)  # another process holds the host's only slot
    assert busy is not None and busy.index == 0
    done = threading.Event()
    outcomes: list = []

    def sync() -> None:
        outcomes.append(run_sync(fake, tmp_path, [{"name": "bot", "from": "missing-base", "system": "x"}, {"name": "ok", "from": "have"}], host_limit=1))
        done.set()

    thread = threading.Thread(target=sync, daemon=True)
    thread.start()
    assert not done.wait(0.5), "the sync went on although the host's pull slot is taken"
    assert [payload["model"] for _m, path, payload in fake.requests if path == "/api/create"] == []
    busy.release()
    assert done.wait(10)
    thread.join(5)
    _sync, outcome = outcomes[0]
    assert [(entry["name"], entry["action"]) for entry in outcome["results"]] == [("bot:latest", "created"), ("ok:latest", "created")]
    assert [payload["model"] for _m, path, payload in fake.requests if path == "/api/create"] == ["bot:latest", "ok:latest"]


def test_a_custom_model_on_a_present_base_takes_no_pull_slot(fake: FakeOllama, tmp_path: Path) -> None:
    fake.put("have")
    busy = Ledger.open(str(tmp_path / "state")).try_pull_slot(1)
    try:
        _sync, outcome = run_sync(fake, tmp_path, [{"name": "ok", "from": "have", "system": "x"}], host_limit=1)
    finally:
        busy.release()
    assert [(entry["name"], entry["action"]) for entry in outcome["results"]] == [("ok:latest", "created")]


def test_without_transfers_only_what_moves_no_bytes_is_applied(fake: FakeOllama, tmp_path: Path) -> None:
    fake.publish("new")
    for name in ("keep", "have", "extra", "loaded"):
        fake.put(name)
    fake.loaded["registry.ollama.ai/library/loaded:latest"] = dict(fake.models["registry.ollama.ai/library/loaded:latest"])
    models = [
        "keep",
        "new",
        {"name": "bot", "from": "missing-base", "system": "x"},  # Ollama pulls its base: a transfer
        {"name": "ok", "from": "have", "system": "x"},  # on a present base: no transfer
        {"name": "onnew", "from": "new", "system": "x"},  # on a base whose pull is pending
        {"name": "loaded", "state": "unloaded"},
    ]
    _sync, outcome = run_sync(fake, tmp_path, models, exclusive=True, transfers=False)
    assert [(r["name"], r["action"], r["status"]) for r in outcome["results"]] == [
        ("keep:latest", "unchanged", "stopped"),
        ("new:latest", "pending", "pending"),
        ("bot:latest", "pending", "pending"),
        ("ok:latest", "created", "stopped"),
        ("onnew:latest", "pending", "pending"),
        ("loaded:latest", "unloaded", "stopped"),
        ("extra:latest", "removed", "unavailable"),
    ]
    assert outcome["pending"] == ["new:latest", "bot:latest", "onnew:latest"]
    assert [(s["name"], s["action"]) for s in outcome["plan"] if s["action"] == "pending"] == [
        ("new:latest", "pending"),
        ("bot:latest", "pending"),
        ("onnew:latest", "pending"),
    ]
    assert pulls(fake) == []
    assert [payload["model"] for _m, path, payload in fake.requests if path == "/api/create"] == ["ok:latest"]
    assert outcome["summary"]["added"] == 1 and outcome["summary"]["removed"] == 1 and outcome["summary"]["unloaded"] == 1
    assert outcome["lock"] == [pin for pin in outcome["lock"] if pin["name"] not in outcome["pending"]]

    # a run with transfers does the rest; check mode plans everything whatever transfers says
    _sync, planned = run_sync(fake, tmp_path, models, check_mode=True, exclusive=True, transfers=False)
    assert planned["pending"] == [] and [s["name"] for s in planned["plan"]] == ["new:latest", "bot:latest", "onnew:latest"]
    _sync, done = run_sync(fake, tmp_path, models, exclusive=True)
    assert done["pending"] == [] and pulls(fake) == ["new:latest"]
    assert {r["name"]: r["action"] for r in done["results"] if r["action"] != "unchanged"} == {
        "new:latest": "pulled",
        "bot:latest": "created",
        "onnew:latest": "created",
    }


def test_a_yaml_lock_file_without_pyyaml_says_how_to_convert(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)  # a host without PyYAML
    assert parse_lock(render_lock([{"name": "a", "digest": "sha256:" + DIGEST_A}]), "f")["registry.ollama.ai/library/a:latest"]["digest"] == DIGEST_A
    with pytest.raises(SyncError, match="a YAML lock file of an earlier version needs PyYAML on the host: write it again with lock_mode: write"):
        parse_lock("models:\n  - name: a\n    digest: %s\n" % DIGEST_A, "f")


def test_a_first_pull_reads_the_servers_list_once_before_and_once_after(fake: FakeOllama, tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        fake.publish(name)
    _sync, outcome = run_sync(fake, tmp_path, ["a", "b", {"name": "c", "state": "loaded"}])
    assert outcome["summary"]["added"] == 3 and outcome["summary"]["loaded"] == 1
    assert [path for _method, path, _payload in fake.requests if path == "/api/tags"] == ["/api/tags"] * 2
    served = {model["name"]: model["digest"] for model in fake.models.values()}
    assert [(r["name"], r["digest"]) for r in outcome["results"]] == [(n + ":latest", served[n + ":latest"]) for n in "abc"]


def test_a_pull_the_server_does_not_list_afterwards_fails(fake: FakeOllama, tmp_path: Path) -> None:
    fake.publish("a")
    original = fake.stream

    def vanishing(method: str, path: str, payload: Any = None, timeout: Any = None) -> Any:
        yield from original(method, path, payload, timeout)
        fake.models.clear()  # pulled, then gone before the list is read again

    fake.stream = vanishing  # type: ignore[method-assign]
    _sync, outcome = run_sync(fake, tmp_path, ["a"])
    assert [(r["action"], r["message"]) for r in outcome["results"]] == [
        ("failed", "the pull of a:latest reported success, but the server does not list the model afterwards")
    ]
