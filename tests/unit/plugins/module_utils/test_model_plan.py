# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Table tests of the pure planner: spec + facts in, ordered steps (and refusals) out; no server, no files."""

from __future__ import annotations

import hashlib
from typing import Any, Dict, List, Optional

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils._model_plan import (
    BACKUP_SUFFIX,
    CHECK_MEMORY,
    CHECK_SPACE,
    COPY,
    CREATE,
    DELETE,
    LOAD,
    MANIFEST,
    PULL,
    RESTORE,
    SHOW,
    UNKNOWN_DIGEST,
    UNLOAD,
    VERIFY,
    ModelFacts,
    Plan,
    plan_model,
)
from ansible_collections.llmops.ollama.plugins.module_utils._model_spec import ModelSpec
from ansible_collections.llmops.ollama.plugins.module_utils._registry import Manifest
from tests.unit.plugins.module_utils.test_models import manifest_for

OLD = "a" * 64
PIN = "e" * 64
SERVED_RAW = manifest_for("llama3.2:1b", version=2)
SERVED = hashlib.sha256(SERVED_RAW).hexdigest()


def spec(name: str = "llama3.2:1b", **kwargs: Any) -> ModelSpec:
    built, _warnings = ModelSpec.build(name, **kwargs)
    return built


def facts(
    model: ModelSpec,
    present: bool = False,
    loaded: bool = False,
    digest: str = OLD,
    manifest: str = "served",
    show: Optional[Dict[str, Any]] = None,
    base_present: bool = True,
    recorded: Optional[Dict[str, Any]] = None,
) -> ModelFacts:
    """The facts of one model. ``manifest``: served (the registry serves SERVED), unreadable, missing (HTTP 404) or unread."""
    entry = {"name": model.name.display, "digest": digest, "size": 1000} if present or loaded else None
    found = ModelFacts(model, entry=entry, loaded=dict(entry, size_vram=0) if loaded and entry else None, recorded=recorded, base_present=base_present)
    if manifest != "unread":
        found.manifest_read = True
        if manifest == "served":
            found.manifest = Manifest(SERVED_RAW, "http://registry/v2/library/llama3.2/manifests/1b")
        elif manifest == "unreadable":
            found.manifest_error = "the registry at http://r cannot be reached: refused"
        else:
            found.manifest_error = "the registry has no manifest for llama3.2:1b (HTTP 404)"
            found.manifest_missing = True
    found.show = show
    return found


def kinds(plan: Plan) -> List[str]:
    return [step.kind for step in plan.steps]


def verbs(plan: Plan) -> List[str]:
    return [step.verb for step in plan.steps if step.verb]


CUSTOM = {"from": "base:1b", "system": "Be brief."}
SAME_SHOW = {"system": "Be brief.", "details": {"parent_model": "base:1b"}}
OTHER_SHOW = {"system": "Be long.", "details": {"parent_model": "base:1b"}}


@pytest.mark.parametrize(
    ("desired", "server", "steps", "after"),
    [
        # state absent
        ({"state": "absent"}, {}, [], {"state": "absent"}),
        ({"state": "absent"}, {"present": True}, [DELETE], {"state": "absent"}),
        ({"state": "absent"}, {"loaded": True}, [UNLOAD, DELETE], {"state": "absent"}),
        # state unloaded
        ({"state": "unloaded"}, {"loaded": True}, [UNLOAD], {"state": "present", "digest": OLD}),
        ({"state": "unloaded"}, {"present": True}, [], {"state": "present", "digest": OLD}),
        ({"state": "unloaded"}, {}, [], {"state": "absent"}),
        # pulled models
        ({}, {}, [CHECK_SPACE, PULL], {"state": "present", "digest": SERVED}),
        ({}, {"manifest": "unreadable"}, [CHECK_SPACE, PULL], {"state": "present", "digest": UNKNOWN_DIGEST}),
        ({}, {"present": True}, [], {"state": "present", "digest": OLD}),
        ({"digest": OLD}, {"present": True}, [], {"state": "present", "digest": OLD}),
        ({"digest": PIN}, {}, [CHECK_SPACE, PULL, VERIFY], {"state": "present", "digest": PIN}),
        ({"force": True}, {"present": True}, [DELETE, CHECK_SPACE, PULL], {"state": "present", "digest": SERVED}),
        ({"force": True}, {"loaded": True}, [UNLOAD, DELETE, CHECK_SPACE, PULL], {"state": "present", "digest": SERVED}),
        ({"update": True}, {"present": True}, [CHECK_SPACE, PULL], {"state": "present", "digest": SERVED}),
        ({"update": True}, {"present": True, "digest": SERVED}, [CHECK_SPACE, PULL], {"state": "present", "digest": SERVED}),
        ({"update": True, "digest": OLD}, {"present": True}, [], {"state": "present", "digest": OLD}),
        (
            {"update": True, "digest": PIN},
            {"present": True, "manifest": "unreadable"},
            [CHECK_SPACE, COPY, PULL, VERIFY, DELETE],
            {"state": "present", "digest": UNKNOWN_DIGEST},
        ),
        # loaded
        ({"state": "loaded"}, {"present": True}, [LOAD], {"state": "loaded", "digest": OLD}),
        ({"state": "loaded", "check_memory": True}, {"present": True}, [CHECK_MEMORY, LOAD], {"state": "loaded", "digest": OLD}),
        ({"state": "loaded"}, {"loaded": True}, [], {"state": "loaded", "digest": OLD}),
        ({"state": "loaded"}, {}, [CHECK_SPACE, PULL, LOAD], {"state": "loaded", "digest": SERVED}),
        ({"state": "loaded", "update": True}, {"loaded": True}, [CHECK_SPACE, PULL, LOAD], {"state": "loaded", "digest": SERVED}),
        # custom models
        ({"definition": CUSTOM}, {}, [CREATE], {"state": "present"}),
        ({"definition": CUSTOM}, {"present": True, "show": SAME_SHOW}, [], {"state": "present", "digest": OLD}),
        (
            {"definition": CUSTOM},
            {"present": True, "show": OTHER_SHOW},
            [CREATE],
            {"state": "present", "digest": OLD, "system": "Be brief."},
        ),
        ({"definition": CUSTOM, "force": True}, {"loaded": True}, [UNLOAD, DELETE, CREATE], {"state": "present"}),
        ({"definition": CUSTOM, "digest": PIN}, {}, [CREATE, VERIFY], {"state": "present"}),
        ({"definition": CUSTOM, "state": "loaded"}, {}, [CREATE, LOAD], {"state": "loaded"}),
    ],
)
def test_plans(desired: Dict[str, Any], server: Dict[str, Any], steps: List[str], after: Dict[str, Any]) -> None:
    plan = plan_model(facts(spec(**desired), **server))
    assert plan.refusal is None and plan.wants == []
    assert kinds(plan) == steps
    assert plan.after == after
    assert all(step.reason for step in plan.steps), "every step says why"


@pytest.mark.parametrize(
    ("desired", "server", "verbs_"),
    [
        ({"state": "absent"}, {"loaded": True}, ["unloaded", "deleted"]),
        ({}, {}, ["pulled"]),
        ({"force": True}, {"present": True}, ["deleted", "re-pulled"]),
        ({"force": True}, {}, ["pulled"]),
        ({"update": True}, {"present": True}, ["updated"]),
        ({"definition": CUSTOM}, {}, ["created"]),
        ({"definition": CUSTOM}, {"present": True, "show": OTHER_SHOW}, ["re-created"]),
        ({"definition": CUSTOM, "force": True}, {"present": True}, ["deleted", "re-created"]),
        ({"state": "loaded"}, {"present": True}, ["loaded"]),
    ],
)
def test_verbs(desired: Dict[str, Any], server: Dict[str, Any], verbs_: List[str]) -> None:
    assert verbs(plan_model(facts(spec(**desired), **server))) == verbs_


@pytest.mark.parametrize(
    ("desired", "server", "message"),
    [
        (
            {"digest": PIN},
            {"present": True},
            "llama3.2:1b is present with digest sha256:%s, but digest pins sha256:%s; set update: true to pull the pinned version "
            "(or force: true to re-pull it)" % (OLD, PIN),
        ),
        (
            {"update": True, "digest": PIN},
            {"present": True},
            "digest mismatch for llama3.2:1b: the pin is sha256:%s but the registry serves sha256:%s; the update was refused "
            "before pulling anything, so llama3.2:1b stays at sha256:%s (pin sha256:%s to take the version the registry serves)" % (PIN, SERVED, OLD, SERVED),
        ),
        (
            {"definition": CUSTOM, "digest": PIN},
            {"present": True, "show": SAME_SHOW},
            "llama3.2:1b is present with digest sha256:%s, but digest pins sha256:%s" % (OLD, PIN),
        ),
    ],
)
def test_refusals(desired: Dict[str, Any], server: Dict[str, Any], message: str) -> None:
    plan = plan_model(facts(spec(**desired), **server))
    assert plan.refusal == (message, "failed")
    assert plan.steps == []


@pytest.mark.parametrize(
    ("desired", "server", "wants"),
    [
        ({}, {"manifest": "unread"}, [MANIFEST]),
        ({"update": True}, {"present": True, "manifest": "unread"}, [MANIFEST]),
        ({"definition": CUSTOM}, {"present": True}, [SHOW]),
        ({}, {"present": True, "manifest": "unread"}, []),
        ({"definition": CUSTOM}, {"manifest": "unread"}, []),
    ],
)
def test_a_plan_asks_for_the_facts_it_lacks(desired: Dict[str, Any], server: Dict[str, Any], wants: List[str]) -> None:
    plan = plan_model(facts(spec(**desired), **server))
    assert plan.wants == wants
    if wants:
        assert plan.steps == [], "no step before the facts are there"


def test_check_mode_failures_are_foreseen_on_the_steps() -> None:
    missing = plan_model(facts(spec(), manifest="missing"))
    pull = missing.steps[1]
    assert pull.kind == PULL and pull.error == (
        "model 'llama3.2:1b' not found in registry.ollama.ai/library: the registry has no manifest for llama3.2:1b (HTTP 404)"
    )
    mismatch = plan_model(facts(spec(digest=PIN)))
    verify = mismatch.steps[-1]
    assert verify.kind == VERIFY and verify.error.startswith(
        "digest mismatch for llama3.2:1b: the pin is sha256:%s but the registry serves sha256:%s; a real run pulls it" % (PIN, SERVED)
    )
    assert verify.undo is not None and verify.undo.kind == DELETE, "what the pull added goes again"


def test_a_pinned_update_keeps_a_backup_and_restores_it() -> None:
    plan = plan_model(facts(spec(update=True, digest=PIN), present=True, manifest="unreadable"))
    copy, pull, verify, drop = plan.steps[1:]
    assert copy.target.display == "llama3.2:1b" + BACKUP_SUFFIX and copy.source is not None and copy.source.display == "llama3.2:1b"
    assert pull.transfer and pull.data["changes"] is True and plan.notes, "an unreadable registry predicts a change, with a warning"
    assert verify.undo is not None and verify.undo.kind == RESTORE and verify.undo.source == copy.target
    assert drop.target == copy.target and drop.verb is None


def test_transfers_and_pulls() -> None:
    assert plan_model(facts(spec())).transfers
    assert plan_model(facts(spec())).pulls
    created = plan_model(facts(spec(definition=CUSTOM), base_present=False))
    assert created.transfers and not created.pulls, "a create whose base Ollama must pull holds a pull slot, outside the pull phase"
    assert not plan_model(facts(spec(definition=CUSTOM))).transfers
    assert not plan_model(facts(spec(state="absent"), present=True)).transfers


def test_a_load_after_an_update_runs_only_when_the_update_changed_the_model() -> None:
    plan = plan_model(facts(spec(state="loaded", update=True, check_memory=True), loaded=True))
    assert [(step.kind, step.when_changed) for step in plan.steps] == [(CHECK_SPACE, False), (PULL, False), (CHECK_MEMORY, True), (LOAD, True)]
    fresh = plan_model(facts(spec(state="loaded"), present=True))
    assert [step.when_changed for step in fresh.steps] == [False]


def test_differences_of_a_custom_model_are_in_before_and_after() -> None:
    plan = plan_model(facts(spec(definition=CUSTOM), present=True, show=OTHER_SHOW))
    assert [field for field, _current, _desired in plan.differences] == ["system"]
    assert (plan.before["system"], plan.after["system"]) == ("Be long.", "Be brief.")
    assert plan.steps[0].data["added"] is False and plan.steps[0].data["definition"] == CUSTOM
