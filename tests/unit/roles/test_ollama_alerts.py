# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The alert rules of the ollama_monitoring role: promtool check rules, promtool test rules, and every alert tested both ways."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "roles" / "ollama_monitoring" / "files" / "ollama_alerts.yml"
TESTS = Path(__file__).resolve().parent / "promtool" / "ollama_alerts_test.yml"
SEVERITIES = {"info", "warning", "error", "critical"}


def promtool() -> str:
    path = shutil.which("promtool")
    if not path:
        pytest.fail("promtool is not installed: apt-get install prometheus (see .ci/deps.sh)")
    return path


def alerts() -> List[Dict[str, Any]]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"] if "alert" in rule]


def test_promtool_check_rules() -> None:
    result = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: %d rules found" % len(alerts()) in result.stdout


def test_promtool_test_rules() -> None:
    result = subprocess.run([promtool(), "test", "rules", str(TESTS)], capture_output=True, text=True, check=False, cwd=TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_severity_a_summary_and_a_runbook() -> None:
    names = [rule["alert"] for rule in alerts()]
    assert len(names) == len(set(names)), "alert names repeat"
    for rule in alerts():
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert rule["annotations"]["runbook"].strip(), rule["alert"]
    # the levels are all in use
    assert {rule["labels"]["severity"] for rule in alerts()} == SEVERITIES


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    cases = [check for test in yaml.safe_load(TESTS.read_text())["tests"] for check in test["alert_rule_test"]]
    firing = {case["alertname"] for case in cases if case.get("exp_alerts")}
    quiet = {case["alertname"] for case in cases if not case.get("exp_alerts")}
    names = {rule["alert"] for rule in alerts()}
    assert names - firing == set(), "alerts never tested firing"
    assert names - quiet == set(), "alerts never tested quiet"


def test_the_issue_s_alerts_are_there() -> None:
    names = {rule["alert"] for rule in alerts()}
    assert {
        "OllamaDown",
        "OllamaInferenceHung",
        "OllamaModelOnCPU",
        "OllamaDiskLow",
        "OllamaCertificateExpiring",
        "OllamaPullStalled",
        "OllamaSyncFailing",
        "OllamaErrorRateHigh",
        "OllamaLatencyHigh",
        "OllamaContainerMemoryHigh",
        "OllamaWatchdogRestartLoop",
    } <= names
