# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Table tests of the pure planner: spec + facts in, ordered steps (and refusals) out; no server, no files."""

from __future__ import annotations

import hashlib
from typing import Any, Dict, List, Optional

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.manifest import Manifest
from ansible_collections.llmops.ollama.plugins.module_utils.model.plan import (
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
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import ModelSpec
from tests.unit.plugins.module_utils.model.test_lifecycle import manifest_for

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


def test_an_update_from_its_own_registry_keeps_no_second_name() -> None:
    """Ollama's pull under the model's own name removes the layers only the previous version used: no copy is needed."""
    plan = plan_model(facts(spec(update=True), present=True))
    assert [step.kind for step in plan.steps] == [CHECK_SPACE, PULL]


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


# ---------------------------------------------------------------------------- pulls through a mirror (issue 11 item 3)

from ansible_collections.llmops.ollama.plugins.module_utils.model.mirror_source import InvalidMirror, parse_mirror  # noqa: E402

MIRROR = "https://mirror.example:8443"
VIA = "mirror.example:8443/library/llama3.2:1b"


def mirrored(name: str = "llama3.2:1b", fallback: bool = False, url: str = MIRROR, insecure: bool = False, **kwargs: Any) -> ModelSpec:
    model = spec(name, **kwargs)
    model.mirror = parse_mirror(url, insecure, fallback)
    return model


def mirror_facts(model: ModelSpec, in_mirror: bool = True, **kwargs: Any) -> ModelFacts:
    """Facts of a model pulled through a mirror; ``in_mirror=False``: the mirror answered 404 (with fallback the
    manifest fields are then upstream's, here SERVED)."""
    found = facts(model, **kwargs)
    if not in_mirror:
        found.mirror_missing = True
        found.mirror_error = "the registry has no manifest for %s at %s/v2/... (HTTP 404)" % (VIA, MIRROR)
        if not model.mirror.fallback:
            found.manifest = None
    return found


def steps_of(plan: Plan) -> List[tuple]:
    return [(step.kind, step.target.display, step.source.display if step.source else None) for step in plan.steps]


@pytest.mark.parametrize(
    ("desired", "server", "steps"),
    [
        pytest.param(
            {},
            {},
            [(CHECK_SPACE, "llama3.2:1b", None), (PULL, "llama3.2:1b", VIA), (COPY, "llama3.2:1b", VIA), (DELETE, VIA, None)],
            id="absent-pull-copy-delete",
        ),
        pytest.param(
            {"digest": SERVED},
            {},
            [(CHECK_SPACE, "llama3.2:1b", None), (PULL, "llama3.2:1b", VIA), (COPY, "llama3.2:1b", VIA), (DELETE, VIA, None), (VERIFY, "llama3.2:1b", None)],
            id="pinned-verify-after-the-rename",
        ),
        pytest.param(
            {"update": True, "digest": SERVED},
            {"present": True},
            [
                (CHECK_SPACE, "llama3.2:1b", None),
                (COPY, "llama3.2:1b" + BACKUP_SUFFIX, "llama3.2:1b"),
                (PULL, "llama3.2:1b", VIA),
                (COPY, "llama3.2:1b", VIA),
                (DELETE, VIA, None),
                (VERIFY, "llama3.2:1b", None),
                (DELETE, "llama3.2:1b" + BACKUP_SUFFIX, None),
            ],
            id="pinned-update-backup-pull-rename-verify",
        ),
        pytest.param(
            {"update": True},
            {"present": True},
            [
                (CHECK_SPACE, "llama3.2:1b", None),
                (COPY, "llama3.2:1b" + BACKUP_SUFFIX, "llama3.2:1b"),
                (PULL, "llama3.2:1b", VIA),
                (COPY, "llama3.2:1b", VIA),
                (DELETE, VIA, None),
                (DELETE, "llama3.2:1b" + BACKUP_SUFFIX, None),
            ],
            id="update-keeps-the-previous-version-to-delete-its-layers",
        ),
        pytest.param(
            {"update": True},
            {"present": True, "digest": SERVED},
            [(CHECK_SPACE, "llama3.2:1b", None), (PULL, "llama3.2:1b", VIA), (COPY, "llama3.2:1b", VIA), (DELETE, VIA, None)],
            id="update-to-the-same-digest-keeps-nothing",
        ),
        pytest.param(
            {"state": "loaded"},
            {},
            [(CHECK_SPACE, "llama3.2:1b", None), (PULL, "llama3.2:1b", VIA), (COPY, "llama3.2:1b", VIA), (DELETE, VIA, None), (LOAD, "llama3.2:1b", None)],
            id="loaded-after-the-rename",
        ),
        pytest.param({}, {"present": True}, [], id="converged-nothing"),
        pytest.param({"digest": OLD, "update": True}, {"present": True}, [], id="pinned-converged-nothing"),
        pytest.param({"state": "absent"}, {"present": True}, [(DELETE, "llama3.2:1b", None)], id="absent-needs-no-mirror"),
    ],
)
def test_mirror_plans(desired: Dict[str, Any], server: Dict[str, Any], steps: List[tuple]) -> None:
    plan = plan_model(mirror_facts(mirrored(**desired), **server))
    assert plan.refusal is None
    assert steps_of(plan) == steps
    pulls = [step for step in plan.steps if step.kind == PULL]
    if pulls:
        assert pulls[0].data["mirror"] == MIRROR and pulls[0].transfer
        assert plan.after["digest"] == SERVED, "a copy keeps the digest: the model ends with the upstream manifest digest"
    for step in plan.steps:  # the executor tells the mirror's copy and delete from a backup's by this mark
        touches_mirror = VIA in (step.target.display, step.source.display if step.source else "")
        assert bool(step.data.get("mirror")) is touches_mirror, step


@pytest.mark.parametrize(("desired", "server"), [({}, {"present": True}), ({"state": "loaded"}, {"loaded": True}), ({"digest": OLD}, {"present": True})])
def test_a_converged_model_asks_the_mirror_for_nothing(desired: Dict[str, Any], server: Dict[str, Any]) -> None:
    plan = plan_model(mirror_facts(mirrored(**desired), manifest="unread", **server))
    assert plan.wants == [] and plan.steps == []


def test_an_absent_model_asks_for_the_mirror_manifest_first() -> None:
    plan = plan_model(mirror_facts(mirrored(), manifest="unread"))
    assert plan.wants == [MANIFEST] and plan.steps == []


def test_a_model_missing_from_the_mirror_is_refused_naming_the_mirror() -> None:
    plan = plan_model(mirror_facts(mirrored(), in_mirror=False))
    assert plan.refusal is not None and plan.steps == []
    message = plan.refusal[0]
    assert MIRROR in message and "llama3.2:1b" in message and "mirror_fallback" in message and "ollama_mirror" in message
    update = plan_model(mirror_facts(mirrored(update=True), in_mirror=False, present=True))
    assert update.refusal is not None and MIRROR in update.refusal[0]


def test_mirror_fallback_pulls_from_the_own_registry_with_a_warning() -> None:
    plan = plan_model(mirror_facts(mirrored(fallback=True), in_mirror=False))
    assert plan.refusal is None
    assert steps_of(plan) == [(CHECK_SPACE, "llama3.2:1b", None), (PULL, "llama3.2:1b", None)]
    pull = plan.steps[1]
    assert "not in the mirror %s" % MIRROR in pull.data["warning"] and "registry.ollama.ai/library" in pull.data["warning"]
    assert "mirror" not in pull.data and plan.after["digest"] == SERVED


def test_a_pin_the_mirror_does_not_serve_is_refused_before_pulling() -> None:
    plan = plan_model(mirror_facts(mirrored(update=True, digest=PIN), present=True))
    assert plan.refusal is not None and "sha256:%s" % SERVED in plan.refusal[0] and plan.steps == []


def test_mirror_insecure_and_other_registries() -> None:
    plan = plan_model(mirror_facts(mirrored(url="http://127.0.0.1:8080", insecure=True)))
    pull = next(step for step in plan.steps if step.kind == PULL)
    assert pull.source.display == "127.0.0.1:8080/library/llama3.2:1b" and pull.data["insecure"] is True
    # hf.co names are mirrored as ollama_mirror stores them: v2/<namespace>/<model>, without the host
    hf = plan_model(mirror_facts(mirrored("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M")))
    pull = next(step for step in hf.steps if step.kind == PULL)
    assert pull.source.display == "mirror.example:8443/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"
    assert pull.source.registry_path == "bartowski/Llama-3.2-1B-Instruct-GGUF"
    # a name that already names the mirror host is pulled as written
    own = plan_model(mirror_facts(mirrored("mirror.example:8443/library/llama3.2:1b")))
    assert [step.source for step in own.steps if step.kind == PULL] == [None] and COPY not in kinds(own)


def test_a_custom_model_is_created_as_usual() -> None:
    plan = plan_model(mirror_facts(mirrored("mine:1", **{"definition": {"from": "llama3.2:1b", "system": "hi"}})))
    assert kinds(plan) == [CREATE]


def test_the_plan_of_a_mirror_pull_as_reported() -> None:
    plan = plan_model(mirror_facts(mirrored()))
    reported = plan.as_dict()["steps"]
    assert [(s["kind"], s.get("source")) for s in reported] == [(CHECK_SPACE, None), (PULL, VIA), (COPY, VIA), (DELETE, None)]
    assert reported[3]["target"] == VIA and "blobs stay" in reported[3]["reason"]


@pytest.mark.parametrize(
    ("url", "insecure", "message"),
    [
        ("http://mirror.example:8080", False, "mirror_insecure: true"),
        ("https://mirror.example", True, "plain http"),
        ("https://mirror.example/ollama", False, "has a path"),
        ("https://user:secret@mirror.example", False, "credentials"),
        ("ftp://user:secret@mirror.example/path", False, "credentials"),
        ("user:secret@mirror.example:port", False, "credentials"),
        ("ftp://mirror.example", False, "https:// or http://"),
        ("https://mirror.example:port", False, "not a URL"),
        (42, False, "URL string"),
    ],
)
def test_bad_mirror_options(url: Any, insecure: bool, message: str) -> None:
    with pytest.raises(InvalidMirror) as caught:
        parse_mirror(url, insecure)
    assert message in str(caught.value)
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "insecure", "base", "host"),
    [
        ("https://mirror.example:8443/", False, "https://mirror.example:8443", "mirror.example:8443"),
        ("mirror.example:8443", False, "https://mirror.example:8443", "mirror.example:8443"),
        ("127.0.0.1:8080", True, "http://127.0.0.1:8080", "127.0.0.1:8080"),
        ("https://Mirror.Example", False, "https://Mirror.Example", "Mirror.Example"),
    ],
)
def test_mirror_urls(url: str, insecure: bool, base: str, host: str) -> None:
    mirror = parse_mirror(url, insecure)
    assert mirror is not None and (mirror.url, mirror.host, mirror.insecure) == (base, host, insecure)
    assert parse_mirror(None) is None and parse_mirror("") is None and parse_mirror(False) is None


# ---------------------------------------------------------------------------- cloud models, capabilities, own weights (issue 12 items 2-4)

from ansible_collections.llmops.ollama.plugins.module_utils.model.plan import CHECK_CAPABILITIES, is_cloud  # noqa: E402
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import InvalidSpec  # noqa: E402

THIS_FILE = __file__  # a readable file that exists
CLOUD_ENTRY = {"name": "gpt-oss:120b-cloud", "digest": OLD, "size": 384, "remote_host": "https://ollama.com:443", "remote_model": "gpt-oss:120b"}
TEXT = ["completion"]
VISION = ["completion", "vision"]


def today_facts(model: ModelSpec, entry: Optional[Dict[str, Any]] = None, show: Optional[Dict[str, Any]] = None, **kwargs: Any) -> ModelFacts:
    """Facts with a /api/tags entry as today's Ollama lists it (capabilities, remote_host); the manifest read."""
    found = ModelFacts(model, entry=entry, show=show, **kwargs)
    found.manifest_read = True
    found.manifest = Manifest(SERVED_RAW, "http://registry/v2/library/x/manifests/y")
    return found


def tagged(name: str, capabilities: Optional[List[str]] = None, **extra: Any) -> Dict[str, Any]:
    entry: Dict[str, Any] = {"name": name, "digest": OLD, "size": 1000}
    if capabilities is not None:
        entry["capabilities"] = capabilities
    entry.update(extra)
    return entry


@pytest.mark.parametrize(
    ("name", "desired", "entry", "show", "steps"),
    [
        # cloud models: no disk check before the pull; present is nothing to do
        ("gpt-oss:120b-cloud", {}, None, None, [PULL]),
        ("gpt-oss:120b:cloud", {}, None, None, [PULL]),
        ("gpt-oss:120b:cloud", {}, CLOUD_ENTRY, None, []),
        ("gpt-oss:120b-cloud", {"state": "absent"}, CLOUD_ENTRY, None, [DELETE]),
        ("qwen3:8b:local", {}, None, None, [CHECK_SPACE, PULL]),
        # require_capabilities: after the pull or create, before the load; from /api/tags, else /api/show
        ("smollm2:135m", {"require_capabilities": ["vision"]}, tagged("smollm2:135m", TEXT), None, [CHECK_CAPABILITIES]),
        ("gemma3:4b", {"require_capabilities": ["vision"]}, None, None, [CHECK_SPACE, PULL, CHECK_CAPABILITIES]),
        ("gemma3:4b", {"require_capabilities": ["vision"], "state": "loaded"}, None, None, [CHECK_SPACE, PULL, CHECK_CAPABILITIES, LOAD]),
        ("gemma3:4b", {"require_capabilities": ["vision"], "state": "loaded"}, tagged("gemma3:4b", VISION), None, [CHECK_CAPABILITIES, LOAD]),
        ("gemma3:4b", {"require_capabilities": ["vision"]}, tagged("gemma3:4b"), {"capabilities": VISION}, [CHECK_CAPABILITIES]),
        ("gemma3:4b", {"require_capabilities": ["vision"], "state": "absent"}, tagged("gemma3:4b", VISION), None, [DELETE]),
        ("mine:v1", {"require_capabilities": ["completion"], "definition": {"from": "gemma3:4b", "system": "x"}}, None, None, [CREATE, CHECK_CAPABILITIES]),
    ],
)
def test_today_plans(name: str, desired: Dict[str, Any], entry: Optional[Dict[str, Any]], show: Optional[Dict[str, Any]], steps: List[str]) -> None:
    plan = plan_model(today_facts(spec(name, **desired), entry=entry, show=show))
    assert plan.refusal is None and plan.wants == []
    assert kinds(plan) == steps
    assert all(step.reason for step in plan.steps)
    if CHECK_CAPABILITIES in steps:  # the check looks, it never writes: it comes after what makes the model and before the load
        assert steps.index(CHECK_CAPABILITIES) > max([steps.index(kind) for kind in (PULL, CREATE) if kind in steps] or [-1])


def test_a_capability_check_carries_what_the_model_has_when_it_is_known() -> None:
    plan = plan_model(today_facts(spec("smollm2:135m", require_capabilities=["vision", "Tools"]), entry=tagged("smollm2:135m", TEXT)))
    check = plan.steps[0]
    assert check.data == {"required": ["vision", "tools"], "capabilities": TEXT}
    # after a pull the executor reads them again: the plan does not guess
    pulled = plan_model(today_facts(spec("smollm2:135m", require_capabilities=["vision"])))
    assert pulled.steps[-1].data["capabilities"] is None


def test_an_older_server_without_capabilities_in_tags_makes_the_plan_ask_for_show() -> None:
    plan = plan_model(today_facts(spec("gemma3:4b", require_capabilities=["vision"]), entry=tagged("gemma3:4b")))
    assert plan.wants == [SHOW] and plan.steps == []


@pytest.mark.parametrize(("name", "state"), [("gpt-oss:120b:cloud", "loaded"), ("gpt-oss:120b-cloud", "unloaded"), ("mine:v1", "loaded")])
def test_loaded_and_unloaded_are_refused_for_a_cloud_model(name: str, state: str) -> None:
    entry = dict(CLOUD_ENTRY, name=name) if name == "mine:v1" else None  # a model made from a cloud model: its entry says so
    facts_ = today_facts(spec(name, state=state), entry=entry)
    assert is_cloud(facts_)
    plan = plan_model(facts_)
    assert plan.refusal is not None and plan.steps == []
    assert "is a cloud model" in plan.refusal[0] and "state %s cannot apply" % state in plan.refusal[0] and "use state present" in plan.refusal[0]


def test_a_custom_model_made_from_a_cloud_model_is_a_cloud_model() -> None:
    plan = plan_model(today_facts(spec("helper:v1", state="loaded", definition={"from": "gpt-oss:20b:cloud", "system": "x"})))
    assert plan.refusal is not None and "helper:v1 is a cloud model" in plan.refusal[0]


def test_files_go_into_the_create_and_are_compared_with_the_recorded_digests(tmp_path) -> None:
    weights = tmp_path / "w.gguf"
    weights.write_bytes(b"GGUF" + b"\0" * 100)
    digest = "sha256:" + hashlib.sha256(weights.read_bytes()).hexdigest()
    definition = {"files": [{"path": str(weights), "name": "model.gguf"}], "system": "x"}
    model = spec("mine:v1", definition=definition)
    assert model.definition == {"system": "x", "files": {"model.gguf": digest}}
    create = plan_model(today_facts(model)).steps
    assert [step.kind for step in create] == [CREATE]
    assert create[0].data["blobs"] == [{"name": "model.gguf", "path": str(weights), "digest": digest, "size": 104}]
    assert create[0].data["definition"]["files"] == {"model.gguf": digest}
    present = tagged("mine:v1")
    same = plan_model(today_facts(model, entry=present, show={"system": "x"}, recorded={"definition": {"files": {"model.gguf": digest}}}))
    assert same.steps == []
    other = plan_model(today_facts(model, entry=present, show={"system": "x"}, recorded={"definition": {"files": {"model.gguf": "sha256:" + "0" * 64}}}))
    assert [step.kind for step in other.steps] == [CREATE] and [field for field, _c, _d in other.differences] == ["files"]
    unknown = plan_model(today_facts(model, entry=present, show={"system": "x"}))
    assert unknown.differences == [("files", "(not recorded)", {"model.gguf": digest})]


@pytest.mark.parametrize(
    ("desired", "message"),
    [
        ({"require_capabilities": ["vision", "smell"]}, "unknown capability 'smell'"),
        ({"require_capabilities": "vision"}, ""),
        ({"definition": {"from": "base:1b", "quantize": "q3_K_L"}}, "invalid quantize 'q3_K_L'"),
        ({"definition": {"from": "base:1b", "quantize": "bf16"}}, ""),
        ({"definition": {"from": "base:1b", "quantize": "Q4_K"}}, ""),
        ({"definition": {"files": [{"path": "relative.gguf"}]}}, "must be absolute"),
        ({"definition": {"files": []}}, "non-empty list"),
        ({"definition": {"files": [{"path": "/nonexistent/x.gguf"}]}}, "is not a file on the host the module runs on"),
        ({"definition": {"files": [{"path": THIS_FILE, "name": "a/../b"}]}}, "must be a relative file name"),
        ({"definition": {"files": [{"path": THIS_FILE, "size": 3}]}}, "unknown key(s) size"),
        ({"definition": {"adapters": [{"path": THIS_FILE}]}}, "give from (the base model) or files"),
        ({"definition": {"files": [{"path": THIS_FILE}]}, "update": True}, "update applies to models pulled from a registry"),
    ],
)
def test_bad_new_options_are_refused_before_anything(desired: Dict[str, Any], message: str) -> None:
    if not message:
        spec("x:1", **desired)
        return
    with pytest.raises(InvalidSpec, match=None) as raised:
        spec("x:1", **desired)
    assert message in str(raised.value)


def test_require_capabilities_out_of_present_or_loaded_is_a_warning() -> None:
    _built, warnings = ModelSpec.build("x:1", state="absent", require_capabilities=["vision"])
    assert warnings == ["require_capabilities applies to state present or loaded; with state absent it is not used"]


# a mirror-named model the server held before the run (pulled by hand) is never deleted (issue 19 class 4)
@pytest.mark.parametrize(
    "desired",
    [pytest.param({}, id="pull"), pytest.param({"digest": SERVED}, id="pinned"), pytest.param({"state": "loaded"}, id="loaded")],
)
def test_a_mirror_name_the_server_held_before_is_kept(desired: Dict[str, Any]) -> None:
    found = mirror_facts(mirrored(**desired))
    found.mirror_name_present = True
    plan = plan_model(found)
    assert (COPY, "llama3.2:1b", VIA) in steps_of(plan)
    assert not [step for step in plan.steps if step.kind == DELETE and step.target.display == VIA], steps_of(plan)
    pull = next(step for step in plan.steps if step.kind == PULL)
    assert pull.data["temporary"] is False
    created = plan_model(mirror_facts(mirrored(**desired)))
    assert next(step for step in created.steps if step.kind == PULL).data["temporary"] is True
