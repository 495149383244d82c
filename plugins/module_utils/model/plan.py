# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The plan of one model: what to do to bring it to its desired state, and why.

:func:`plan_model` is pure: a desired :class:`ModelSpec` and the :class:`ModelFacts`
read beforehand (its /api/tags and /api/ps entries, the registry manifest, its
/api/show, its ledger record) in, a :class:`Plan` out: ordered :class:`Step`\\ s,
the model before and (as far as it can be told) after, and a refusal when the
spec cannot be met. No request, no file, no check-mode branch: the executor
(model.apply) runs the same plan for real or, in check mode, reports it.

A plan may say it needs facts it was not given (:attr:`Plan.wants`: the registry
manifest before a pull, /api/show for a present custom model); the caller reads
them and plans again.

Step kinds, and what later kinds of source add without a new shape:

- ``check_space`` (free disk before a transfer; none for a cloud model), ``check_memory`` (before a load),
  ``check_capabilities`` (require_capabilities: after the model is there, before a load);
- ``copy`` (a second name: the backup of a pinned update; a mirror pull's copy to the
  canonical name), ``pull`` (``source`` may differ from the target: a mirror),
  ``create`` (a definition; files and adapters blobs go in ``data``), ``verify``
  (the digest against the pin, with an ``undo``), ``restore`` (an undo: the backup back);
- ``load``, ``unload``, ``delete`` (also of a temporary name: the backup, a mirror name).

A step with ``transfer`` set moves model bytes (a pull, or a create whose base
must be pulled): the executor holds a host pull slot around it.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core.names import InvalidModelName, ModelName, bare_digest, parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.core.statuses import FAILED
from ansible_collections.llmops.ollama.plugins.module_utils.model.definition import compare_definition
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import ModelSpec

CHECK_SPACE = "check_space"
CHECK_MEMORY = "check_memory"
COPY = "copy"
PULL = "pull"
CREATE = "create"
VERIFY = "verify"
LOAD = "load"
UNLOAD = "unload"
DELETE = "delete"
RESTORE = "restore"
CHECK_CAPABILITIES = "check_capabilities"
STEP_KINDS = (CHECK_SPACE, CHECK_MEMORY, COPY, PULL, CREATE, VERIFY, LOAD, UNLOAD, DELETE, RESTORE, CHECK_CAPABILITIES)
# Steps that change the server (the others only look).
WRITES = (COPY, PULL, CREATE, LOAD, UNLOAD, DELETE, RESTORE)

# Facts a plan can ask for.
MANIFEST = "manifest"
SHOW = "show"

# The tag suffix of the copy that keeps a model's previous version while an unverifiable pinned update runs.
BACKUP_SUFFIX = "-llmops-prev"
PREVIOUS_REASON = (
    "keep sha256:%s under a second name while the update comes through the mirror: deleting that name afterwards makes "
    "the server remove the layers only the previous version used"
)
UNKNOWN_DIGEST = "(unknown until pulled)"


class ModelFacts:
    """What is known of one model before planning; everything a plan is computed from.

    ``manifest`` is the registry manifest (a _registry.Manifest) or None;
    ``manifest_read`` says whether it was asked for at all, ``manifest_error``
    why it could not be read and ``manifest_missing`` whether the registry
    answered that it has no such model (HTTP 404). ``show`` is /api/show of a
    present custom model (None: not read). ``recorded`` is the ledger record.
    ``base_present`` says whether a custom model's base is on the server.
    """

    def __init__(
        self,
        spec: ModelSpec,
        entry: Optional[Dict[str, Any]] = None,
        loaded: Optional[Dict[str, Any]] = None,
        recorded: Optional[Dict[str, Any]] = None,
        base_present: bool = True,
        manifest: Any = None,
        manifest_read: bool = False,
        manifest_error: str = "",
        manifest_missing: bool = False,
        show: Optional[Dict[str, Any]] = None,
        mirror_missing: bool = False,
        mirror_error: str = "",
        mirror_name_present: bool = False,
    ) -> None:
        self.spec = spec
        self.entry = entry
        self.loaded = loaded
        self.recorded = recorded or {}
        self.base_present = base_present
        self.manifest = manifest
        self.manifest_read = manifest_read
        self.manifest_error = manifest_error
        self.manifest_missing = manifest_missing
        self.show = show
        # a pull through spec.mirror: the mirror answered that it has no such model (HTTP 404), and its words;
        # with mirror_fallback the manifest fields are then those of the model's own registry
        self.mirror_missing = mirror_missing
        self.mirror_error = mirror_error
        # the server held the mirror-named model before this run (pulled by hand): it is never deleted
        self.mirror_name_present = mirror_name_present

    @property
    def digest(self) -> str:
        return bare_digest(self.entry.get("digest")) if self.entry else ""

    @property
    def size(self) -> int:
        """What the model weighs: its /api/tags size, or else the manifest's total, or 0 when unknown."""
        size = int(self.entry.get("size") or 0) if self.entry else 0
        if not size and self.manifest is not None:
            size = int(self.manifest.total)
        return size


class Step:
    """One thing to do to one model.

    ``verb`` is the action it reports (``pulled``, ``deleted``, ...; None for a step
    that reports none: a check, a backup). ``after`` is what the model is predicted
    to be after it; ``error`` a failure the plan already foresees for check mode
    (the real run finds it by doing the step: a registry that lacks the model, a
    digest the pin refuses). ``data`` holds what the step sends.
    """

    def __init__(
        self,
        kind: str,
        target: ModelName,
        reason: str,
        verb: Optional[str] = None,
        source: Optional[ModelName] = None,
        transfer: bool = False,
        after: Optional[Dict[str, Any]] = None,
        error: str = "",
        data: Optional[Dict[str, Any]] = None,
        undo: Optional[Step] = None,
        when_changed: bool = False,
    ) -> None:
        if kind not in STEP_KINDS:
            raise ValueError("unknown step kind %r" % kind)
        self.kind = kind
        self.target = target
        self.reason = reason
        self.verb = verb
        self.source = source
        self.transfer = transfer
        self.after = after or {}
        self.error = error
        self.data = data or {}
        self.undo = undo
        self.when_changed = when_changed

    def as_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"kind": self.kind, "target": self.target.display, "reason": self.reason}
        if self.verb:
            data["verb"] = self.verb
        if self.source is not None:
            data["source"] = self.source.display
        if self.transfer:
            data["transfer"] = True
        if self.undo is not None:
            data["undo"] = self.undo.as_dict()
        return data

    def __repr__(self) -> str:
        return "Step(%s %s)" % (self.kind, self.target.display)


class Plan:
    """The steps for one model, in order, with the model before and after, and why.

    ``refusal`` (message, kind) fails the model before any step, in check mode as in
    the real run. ``notes`` are warnings that only a prediction needs (check mode).
    ``recorded`` is the model's ledger record as it was read (an earlier problem that
    a successful run ends, the definition a custom model was created from).
    """

    def __init__(self, spec: ModelSpec, before: Dict[str, Any], recorded: Optional[Dict[str, Any]] = None) -> None:
        self.spec = spec
        self.name = spec.name
        self.before = before
        self.after = dict(before)
        self.steps: List[Step] = []
        self.differences: List[Tuple[str, Any, Any]] = []
        self.refusal: Optional[Tuple[str, str]] = None
        self.notes: List[str] = []
        self.wants: List[str] = []
        self.recorded = recorded or {}
        self.expected_size = 0

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        return step

    def refuse(self, message: str, kind: str = FAILED) -> Plan:
        self.refusal = (message, kind)
        return self

    @property
    def transfers(self) -> bool:
        """Whether a step moves model bytes (the work the sync runs concurrently, holding host pull slots)."""
        return any(step.transfer for step in self.steps)

    @property
    def pulls(self) -> bool:
        return any(step.kind == PULL for step in self.steps)

    @property
    def changes(self) -> bool:
        """Whether a step writes to the server (ignoring steps that only run after another change)."""
        return any(step.kind in WRITES and not step.when_changed for step in self.steps)

    def as_dict(self) -> Dict[str, Any]:
        return {
            "name": self.name.display,
            "before": dict(self.before),
            "after": dict(self.after),
            "steps": [step.as_dict() for step in self.steps],
            "refusal": self.refusal[0] if self.refusal else "",
        }


def backup_name(name: ModelName) -> ModelName:
    """The name of the copy that keeps a model's present version during a pinned update."""
    return ModelName(name.host, name.namespace, name.model, name.tag[: 80 - len(BACKUP_SUFFIX)] + BACKUP_SUFFIX, name.scheme)


def describe(facts: ModelFacts) -> Dict[str, Any]:
    """The model as the server shows it: ``{state}`` or ``{state, digest}``."""
    if facts.entry is None:
        return {"state": "absent"}
    return {"state": "loaded" if facts.loaded else "present", "digest": facts.digest}


# ---------------------------------------------------------------------------- the planner


def plan_model(facts: ModelFacts) -> Plan:
    """The plan for one model (pure). See the module docstring."""
    spec = facts.spec
    plan = Plan(spec, describe(facts), facts.recorded)
    if spec.state == "absent":
        return _plan_absent(plan, facts)
    if spec.state in ("loaded", "unloaded") and is_cloud(facts):
        return plan.refuse(
            "%s is a cloud model: it runs on %s, never in this server's memory, and /api/ps never lists it, so state %s "
            "cannot apply; use state present (or absent) for it" % (spec.name.display, _remote_host(facts) or "ollama.com", spec.state)
        )
    if spec.state == "unloaded":
        if facts.loaded:
            plan.add(Step(UNLOAD, spec.name, "state unloaded, and the model is loaded", verb="unloaded"))
            plan.after["state"] = "present"
        return plan
    if spec.custom:
        _plan_custom(plan, facts)
    else:
        _plan_pulled(plan, facts)
    if is_cloud(facts):  # a cloud model's manifest is a small config: no disk check before its pull
        plan.steps = [step for step in plan.steps if step.kind != CHECK_SPACE]
    if plan.refusal is None and plan.wants == [] and spec.require_capabilities:
        _plan_capabilities(plan, facts)
    if plan.refusal is None and plan.wants == [] and spec.state == "loaded":
        _plan_load(plan, facts)
    return plan


def is_cloud(facts: ModelFacts) -> bool:
    """A cloud model: its name says so (``:cloud``, ``-cloud``), the server lists it with a remote host, or it is made from one."""
    base = base_name(facts.spec)
    return facts.spec.name.cloud or bool(_remote_host(facts)) or (base is not None and base.cloud)


def _remote_host(facts: ModelFacts) -> str:
    for source in (facts.entry, facts.show):
        if isinstance(source, dict) and source.get("remote_host"):
            return str(source["remote_host"])
    return ""


def known_capabilities(facts: ModelFacts) -> Optional[List[str]]:
    """The model's capabilities from its /api/tags entry, else its /api/show; None when neither says."""
    for source in (facts.entry, facts.show):
        if isinstance(source, dict) and isinstance(source.get("capabilities"), list) and source["capabilities"]:
            return [str(item) for item in source["capabilities"]]
    return None


def _plan_capabilities(plan: Plan, facts: ModelFacts) -> None:
    """require_capabilities: a check after the model is there (pulled, created) and before it is loaded."""
    spec = facts.spec
    changes = any(step.kind in (PULL, CREATE) for step in plan.steps)
    capabilities = None if changes else known_capabilities(facts)
    if capabilities is None and not changes and facts.entry is not None and facts.show is None:
        plan.wants.append(SHOW)  # /api/tags without capabilities (an older server): ask /api/show
        return
    plan.add(
        Step(
            CHECK_CAPABILITIES,
            spec.name,
            "require_capabilities: %s" % ", ".join(spec.require_capabilities),
            data={"required": list(spec.require_capabilities), "capabilities": capabilities},
        )
    )


def missing_capabilities(required: List[str], capabilities: List[str]) -> List[str]:
    have = {str(item).lower() for item in capabilities}
    return [item for item in required if item not in have]


def capabilities_message(name: ModelName, required: List[str], capabilities: List[str]) -> str:
    missing = missing_capabilities(required, capabilities)
    return "%s lacks the capabilit%s %s that require_capabilities asks for; it has: %s" % (
        name.display,
        "y" if len(missing) == 1 else "ies",
        ", ".join(missing),
        ", ".join(capabilities) or "(none reported)",
    )


def _plan_absent(plan: Plan, facts: ModelFacts) -> Plan:
    name = plan.name
    if facts.entry is None:
        return plan
    if facts.loaded:
        plan.add(Step(UNLOAD, name, "state absent: unload it before deleting it", verb="unloaded"))
    plan.add(Step(DELETE, name, "state absent, and the model is on the server", verb="deleted"))
    plan.after = {"state": "absent"}
    return plan


def _replace(plan: Plan, facts: ModelFacts, why: str) -> None:
    """force: unload and delete the present model before it is made again."""
    if facts.entry is None:
        return
    if facts.loaded:
        plan.add(Step(UNLOAD, plan.name, why + ": unload it first", verb="unloaded"))
    plan.add(Step(DELETE, plan.name, why, verb="deleted"))


def _plan_pulled(plan: Plan, facts: ModelFacts) -> None:
    spec, current = facts.spec, facts.digest
    if spec.force:
        _replace(plan, facts, "force: pull it again")
        _plan_pull(plan, facts, "re-pulled" if facts.entry is not None else "pulled", "force: pull it again")
        return
    if facts.entry is None:
        _plan_pull(plan, facts, "pulled", "the model is not on the server")
        return
    if spec.digest and current == spec.digest:
        return
    if not spec.update:
        if spec.digest:
            plan.refuse(
                "%s is present with digest sha256:%s, but digest pins sha256:%s; set update: true to pull the pinned version "
                "(or force: true to re-pull it)" % (spec.name.display, current, spec.digest)
            )
        return
    _plan_update(plan, facts)


def _blob_sizes(manifest: Any) -> Dict[str, int]:
    """digest: size of the manifest's blobs (what a pull may download; the byte count of the pull reads it), or {}."""
    return {blob["digest"]: int(blob["size"]) for blob in manifest.blobs} if manifest is not None else {}


def _needs_manifest(plan: Plan, facts: ModelFacts) -> bool:
    if not facts.manifest_read:
        plan.wants.append(MANIFEST)
        return True
    return False


def _plan_pull(plan: Plan, facts: ModelFacts, verb: str, reason: str) -> None:
    """A model pulled afresh: check the disk, pull, verify the pin (undo: remove it again)."""
    if _needs_manifest(plan, facts):
        return
    spec, manifest = facts.spec, facts.manifest
    name = spec.name
    via, pull_data = _mirror_pull(plan, facts)
    if plan.refusal is not None:
        return
    served = manifest.digest if manifest is not None else ""
    plan.expected_size = manifest.total if manifest is not None else 0
    plan.add(Step(CHECK_SPACE, name, "a pull must fit on the models disk", data=_space_data(facts)))
    missing = _missing_message(facts)
    after = {"state": "present", "digest": spec.digest or served or UNKNOWN_DIGEST}
    pull_data.update(total=plan.expected_size, blobs=_blob_sizes(manifest))
    plan.add(Step(PULL, name, reason, verb=verb, source=via, transfer=True, after=after, error=missing, data=pull_data))
    _mirror_rename(plan, via, keep=facts.mirror_name_present)
    if spec.digest:
        error = ""
        if served and served != spec.digest:
            error = (
                "digest mismatch for %s: the pin is sha256:%s but the registry serves sha256:%s; a real run pulls it, fails "
                "the verification and removes it again, so nothing unverified stays on the server" % (name.display, spec.digest, served)
            )
        undo = Step(DELETE, name, "the pulled version does not match the pin: remove what this task added")
        plan.add(
            Step(
                VERIFY,
                name,
                "digest pins sha256:%s" % spec.digest,
                error=error,
                undo=undo,
                data={
                    "pin": spec.digest,
                    "source": "the registry served",
                    "removed": "; the model was removed again, so nothing unverified stays on the server",
                },
            )
        )
    plan.after = dict(after)


def _space_data(facts: ModelFacts) -> Dict[str, Any]:
    """What the disk check of a pull works from: the manifest (its blobs), or why there is none."""
    return {"manifest": facts.manifest, "manifest_error": facts.manifest_error, "manifest_missing": facts.manifest_missing}


def _missing_message(facts: ModelFacts) -> str:
    if not facts.manifest_missing:
        return ""
    name = facts.spec.name
    return "model '%s' not found in %s: %s" % (name.display, "%s/%s" % (name.host, name.namespace), facts.manifest_error)


def _mirror_pull(plan: Plan, facts: ModelFacts) -> Tuple[Optional[ModelName], Dict[str, Any]]:
    """(the name the server pulls instead of the model's own: its mirror name, or None; the pull step's data).

    A model the mirror lacks is refused, naming the mirror, unless mirror_fallback: then it comes from
    its own registry, with a warning (``data['warning']``, given in check mode and in the real run).
    """
    spec = facts.spec
    mirror = spec.mirror
    data: Dict[str, Any] = {"insecure": spec.insecure}
    if mirror is None or not mirror.applies(spec.name):
        return None, data
    via = mirror.name_for(spec.name)
    if facts.mirror_missing:
        if mirror.fallback:
            data["warning"] = "%s is not in the mirror %s (%s); mirror_fallback: pulling it from its own registry %s" % (
                spec.name.display,
                mirror.url,
                facts.mirror_error,
                "%s/%s" % (spec.name.host, spec.name.namespace),
            )
            return None, data
        plan.refuse(
            "%s is not in the mirror %s: %s; fill the mirror with llmops.ollama.ollama_mirror (models: [%s]), or set "
            "mirror_fallback: true to pull it from its own registry" % (spec.name.display, mirror.url, facts.mirror_error, spec.name.display)
        )
        return None, data
    data.update(insecure=mirror.insecure, mirror=mirror.url, temporary=not facts.mirror_name_present)
    return via, data


def _mirror_rename(plan: Plan, via: Optional[ModelName], keep: bool = False) -> None:
    """After a pull through a mirror: copy the mirror-named model to its own name (the same manifest, so the
    same digest), then delete the mirror name (the blobs stay: the copy uses every one of them).

    ``keep``: the server held the mirror-named model before the run (someone pulled it by hand), so this
    run did not create it and never deletes it."""
    if via is None:
        return
    name = plan.name
    plan.add(Step(COPY, name, "give the model pulled from the mirror its own name (same manifest, same digest)", source=via, data={"mirror": True}))
    if keep:
        return
    plan.add(Step(DELETE, via, "the mirror-named model is not needed (its blobs stay: %s uses them)" % name.display, data={"mirror": True}))


def _plan_update(plan: Plan, facts: ModelFacts) -> None:
    """update: true on a present model: pull what the registry serves; a pin is kept by a backup copy and undone on a mismatch."""
    if _needs_manifest(plan, facts):
        return
    spec, manifest, current = facts.spec, facts.manifest, facts.digest
    name = spec.name
    via, pull_data = _mirror_pull(plan, facts)
    if plan.refusal is not None:
        return
    if spec.digest and manifest is not None and manifest.digest != spec.digest:
        # the registry says what a pull would bring: refuse before pulling anything unverified
        served = manifest.digest
        plan.refuse(
            "digest mismatch for %s: the pin is sha256:%s but the registry serves sha256:%s; the update was refused "
            "before pulling anything, so %s stays at sha256:%s (pin sha256:%s to take the version the registry serves)"
            % (name.display, spec.digest, served, name.display, current, served)
        )
        return
    if manifest is None:
        plan.notes.append("cannot tell whether %s has an update: the registry manifest could not be read; predicting a change" % name.display)
        changes: Optional[bool] = True
        predicted = UNKNOWN_DIGEST
    else:
        changes = manifest.digest != current
        predicted = manifest.digest
    plan.expected_size = manifest.total if manifest is not None else 0
    plan.add(Step(CHECK_SPACE, name, "a pull must fit on the models disk", data=_space_data(facts)))
    backup = None
    if spec.digest:
        # the tag may move between the check and the pull (or the manifest could not be read): keep the
        # present version to put it back if the pulled one does not match the pin; no copy, no update
        backup = backup_name(name)
        plan.add(Step(COPY, backup, "keep sha256:%s to put it back if the pulled version does not match the pin" % current, source=name, data={"backup": True}))
    elif via is not None and changes is not False:
        # A pull under the model's own name removes the layers only the previous version used (Ollama's PullModel), but
        # the copy of a mirror pull onto its name does not: they would stay until a restart at least an hour later (the
        # start-up prune). Ollama's delete removes the layers that no other manifest uses, so a second name for the
        # previous version, deleted once the update is in place, removes them.
        backup = backup_name(name)
        plan.add(Step(COPY, backup, PREVIOUS_REASON % current, source=name, data={"backup": True, "previous": current}))
    after = {"state": plan.before["state"], "digest": predicted} if changes else dict(plan.before)
    pull_data.update(total=plan.expected_size, blobs=_blob_sizes(manifest), update=True, current=current, changes=changes)
    plan.add(
        Step(
            PULL,
            name,
            "update: true: pull what the registry serves",
            verb="updated",
            source=via,
            transfer=True,
            after=after,
            error=_missing_message(facts),
            data=pull_data,
        )
    )
    _mirror_rename(plan, via)
    if backup is not None and spec.digest:
        undo = Step(RESTORE, name, "the pulled version does not match the pin: put sha256:%s back" % current, source=backup)
        plan.add(Step(VERIFY, name, "digest pins sha256:%s" % spec.digest, undo=undo, data={"pin": spec.digest, "current": current, "backup": backup}))
        plan.add(Step(DELETE, backup, "the update is verified: the backup copy is not needed"))
    elif backup is not None:
        plan.add(Step(DELETE, backup, "remove the layers that only the previous version sha256:%s used" % current, data={"previous": current}))
    plan.after = dict(after)


def _plan_custom(plan: Plan, facts: ModelFacts) -> None:
    spec = facts.spec
    name = spec.name
    definition = dict(spec.definition or {})
    base = definition.get("from")
    transfer = not facts.base_present
    data = {"definition": definition, "base": base, "blobs": list(spec.blobs)}
    if facts.entry is not None and not spec.force:
        if facts.show is None:
            plan.wants.append(SHOW)
            return
        recorded = facts.recorded.get("definition")
        differences = compare_definition(definition, facts.show, recorded if isinstance(recorded, dict) else None)
        if not differences:
            if spec.digest and facts.digest != spec.digest:
                plan.refuse("%s is present with digest sha256:%s, but digest pins sha256:%s" % (name.display, facts.digest, spec.digest))
            return
        plan.differences = differences
        for field, current, desired in differences:
            plan.before[field] = current
            plan.after[field] = desired
        reason = "the definition differs in %s" % ", ".join(field for field, _c, _d in differences)
        plan.add(Step(CREATE, name, reason, verb="re-created", transfer=transfer, after={"state": "present"}, data=dict(data, added=False)))
        _plan_created_pin(plan, spec, added=False)
        plan.after["state"] = "present"
        return
    if facts.entry is not None:
        _replace(plan, facts, "force: create it again")
        plan.after = {"state": "present"}  # a new digest, known once created
        plan.add(Step(CREATE, name, "force: create it again", verb="re-created", transfer=transfer, after={"state": "present"}, data=dict(data, added=True)))
    else:
        plan.add(
            Step(CREATE, name, "the model is not on the server", verb="created", transfer=transfer, after={"state": "present"}, data=dict(data, added=True))
        )
    _plan_created_pin(plan, spec, added=True)
    plan.after["state"] = "present"


def _plan_created_pin(plan: Plan, spec: ModelSpec, added: bool) -> None:
    if not spec.digest:
        return
    undo = Step(DELETE, spec.name, "the created model does not match the pin: remove it again") if added else None
    plan.add(
        Step(
            VERIFY,
            spec.name,
            "digest pins sha256:%s" % spec.digest,
            undo=undo,
            data={"pin": spec.digest, "source": "the created model has", "removed": "; the model was removed again"},
        )
    )


def _plan_load(plan: Plan, facts: ModelFacts) -> None:
    spec = facts.spec
    name = spec.name
    loaded = facts.loaded
    current = facts.digest
    # a model loaded with the present digest needs no load, unless an earlier step changed it
    settled = loaded is not None and (not current or bare_digest(loaded.get("digest")) in ("", current))
    if settled and not plan.changes and not any(step.kind == PULL for step in plan.steps):
        return
    when_changed = settled  # an update that may or may not bring a new digest
    if spec.check_memory:
        plan.add(Step(CHECK_MEMORY, name, "check_memory: the model must fit in memory", when_changed=when_changed, data={"size": facts.size}))
    plan.add(
        Step(
            LOAD,
            name,
            "state loaded" if not settled else "state loaded: load the changed model",
            verb="loaded",
            when_changed=when_changed,
            after={"state": "loaded"},
            data={"keep_alive": spec.keep_alive, "options": dict(spec.options)},
        )
    )
    plan.after["state"] = "loaded"


def base_name(spec: ModelSpec) -> Optional[ModelName]:
    """The base model of a custom model (None for a pulled model, or a base that is not a model name)."""
    base = (spec.definition or {}).get("from")
    if not base:
        return None
    try:
        return parse_name(base)
    except InvalidModelName:
        return None


__all__ = [
    "BACKUP_SUFFIX",
    "CHECK_CAPABILITIES",
    "CHECK_MEMORY",
    "CHECK_SPACE",
    "COPY",
    "CREATE",
    "DELETE",
    "LOAD",
    "MANIFEST",
    "PULL",
    "RESTORE",
    "SHOW",
    "STEP_KINDS",
    "UNLOAD",
    "VERIFY",
    "ModelFacts",
    "Plan",
    "Step",
    "backup_name",
    "base_name",
    "capabilities_message",
    "describe",
    "is_cloud",
    "known_capabilities",
    "missing_capabilities",
    "plan_model",
]
