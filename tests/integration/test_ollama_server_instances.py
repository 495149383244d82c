# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_server_instances against the real Docker engine: numbered instances, GPU pinning on a four-GPU stand-in
nvidia-smi, N -> M, one models directory, and the clear errors before any container changes.

This host has no NVIDIA runtime, so a GPU container cannot start here: the pinning is read from what each
container was given (its environment and device requests, from ``docker inspect``), and one test shows the
error the engine's refusal gets.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

# one worker runs them in order (they reuse one set of containers), under a name of this test process alone
from tests.integration.docker_support import (
    docker,
    inspect,
    own_name,
    require_engine,
)
from tests.integration.nginx_fixture import free_port
from tests.integration.playbook import REPO, run_playbook

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("server_instances")]

PREFIX = own_name("llmops-inst")
SIM_IMAGE = "llmops-inst/ollama-sim:test"
STAND_IN = REPO / "tests" / "integration" / "files"
UUIDS = ["GPU-5d4c0000-0000-4000-8000-00000000000%d" % i for i in range(4)]


def build_image() -> str:
    """The simulator image of this checkout, under a tag of its own (the shared tag is rebuilt by other runs)."""
    subprocess.run(["bash", str(REPO / "tests" / "docker" / "build_sim_image.sh"), SIM_IMAGE], check=True, capture_output=True, timeout=300)
    return SIM_IMAGE


@pytest.fixture(scope="module")
def image() -> str:
    require_engine()
    return build_image()


def containers() -> list[str]:
    out = docker("ps", "-a", "--filter", "label=llmops.ollama.instance_of=%s" % PREFIX, "--format", "{{.Names}}").stdout.split()
    return sorted(out)


def cleanup() -> None:
    for name in [*containers(), PREFIX]:
        docker("rm", "-f", name, check=False)


@pytest.fixture
def role_vars(image: str, tmp_path: Path) -> dict:
    cleanup()
    yield {
        "ollama_server_container_name": PREFIX,
        "ollama_server_models_path": str(tmp_path / "srv" / "models"),
        "ollama_server_image": image,
        "ollama_server_image_pull": "never",
        "ollama_server_port": free_range(4),
        "ollama_server_min_free_disk": "100 MB",
        "ollama_server_min_memory": "512 MB",
        "ollama_server_health_timeout": 60,
    }
    cleanup()


def free_range(count: int) -> int:
    """A base port with ``count`` free ports from it."""
    for _attempt in range(50):
        base = free_port()
        if base + count > 65535:
            continue
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sock.bind(("127.0.0.1", port))
                sockets.append(sock)
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free port range")


def stand_in_env() -> dict:
    """PATH with the four-GPU stand-in nvidia-smi first."""
    return {"PATH": os.pathsep.join([str(STAND_IN), str(Path(sys.executable).parent), os.environ.get("PATH", "")])}


def env_of(name: str) -> dict:
    return dict(item.split("=", 1) for item in inspect(name)["Config"]["Env"])


def get_json(url: str, timeout: float = 10) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.load(resp)


def post_json(url: str, body: dict, timeout: float = 120) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as resp:
        return json.loads(resp.read())


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            get_json(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def changed_tasks(run) -> list[str]:
    return [
        task["task"]["name"].split(" : ", 1)[-1] for play in run.data["plays"] for task in play["tasks"] if task["hosts"].get("localhost", {}).get("changed")
    ]


@pytest.mark.long
def test_per_gpu_pins_each_instance_then_4_to_2_to_1_keeps_the_models(role_vars: dict, tmp_path: Path) -> None:
    (tmp_path / "cron.d").mkdir()
    # made beforehand: the watchdog's disk path is the nearest existing directory, which a first run would move
    Path(role_vars["ollama_server_models_path"]).mkdir(parents=True)
    watchdog = {
        "ollama_server_watchdog": True,
        "ollama_server_watchdog_scheduler": "cron",
        "ollama_server_watchdog_failures": 1,
        "ollama_server_watchdog_bin": str(tmp_path / "bin" / "ollama_watchdog.py"),
        "ollama_server_watchdog_config": str(tmp_path / "etc" / "watchdog.json"),
        "ollama_server_watchdog_state_dir": str(tmp_path / "state"),
        "ollama_server_watchdog_log": str(tmp_path / "watchdog.log"),
        "ollama_server_watchdog_cron_file": str(tmp_path / "cron.d" / "llmops-ollama-watchdog"),
    }
    variables = dict(role_vars, ollama_server_instances="per_gpu", ollama_server_instance_env={"1": {"OLLAMA_NUM_PARALLEL": "2"}}, **watchdog)
    run = run_playbook("server.yml", variables, env=stand_in_env())
    assert run.rc == 0, run.stdout[-3000:]
    names = ["%s-%d" % (PREFIX, i) for i in range(4)]
    assert containers() == names
    assert inspect(PREFIX) is None, "no single container beside the instances"
    base = role_vars["ollama_server_port"]
    for index, name in enumerate(names):
        info = inspect(name)
        env = env_of(name)
        assert info["State"]["Running"] is True
        assert (env["CUDA_VISIBLE_DEVICES"], env["NVIDIA_VISIBLE_DEVICES"]) == (UUIDS[index], UUIDS[index])
        assert info["HostConfig"]["PortBindings"] == {"11434/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(base + index)}]}
        assert info["Config"]["Labels"]["llmops.ollama.gpu"] == UUIDS[index]
        # no NVIDIA runtime here: auto runs on the CPU, so no device request (the refusal test has them)
        assert not info["HostConfig"]["DeviceRequests"]
        assert ("OLLAMA_NOPRUNE" in env) == (index > 0), "only instance 0 prunes at start"
        assert [m["Source"] for m in info["Mounts"] if m["Destination"] == "/root/.ollama"] == [role_vars["ollama_server_models_path"]]
    assert env_of(names[1])["OLLAMA_NUM_PARALLEL"] == "2" and "OLLAMA_NUM_PARALLEL" not in env_of(names[0])
    health = run.results("Wait for every instance's API")["results"]
    assert [r["api_url"] for r in health] == ["http://127.0.0.1:%d" % (base + i) for i in range(4)]
    assert all(r["healthy"] for r in health)

    # the second run changes nothing
    again = run_playbook("server.yml", variables, env=stand_in_env())
    assert again.rc == 0, again.stdout[-3000:]
    assert changed_tasks(again) == [] and again.stats["changed"] == 0

    # the watchdog probes each instance on its own: a stopped one is restarted, the others are left alone
    config = json.loads(Path(watchdog["ollama_server_watchdog_config"]).read_text())
    assert [i["name"] for i in config["instances"]] == names
    started = {name: inspect(name)["State"]["StartedAt"] for name in names}
    docker("stop", "-t", "1", names[2])
    subprocess.run([sys.executable, watchdog["ollama_server_watchdog_bin"], "--config", watchdog["ollama_server_watchdog_config"]], check=True, timeout=120)
    states = {name: json.loads((tmp_path / "state" / name / "status.json").read_text()) for name in names}
    assert states[names[2]]["restarts"] == 1 and inspect(names[2])["State"]["Running"] is True
    assert [states[name]["restarts"] for name in names if name != names[2]] == [0, 0, 0]
    assert all(inspect(name)["State"]["StartedAt"] == started[name] for name in names if name != names[2])
    assert "restarted" in Path(watchdog["ollama_server_watchdog_log"]).read_text()
    for index in range(4):
        wait_for("http://127.0.0.1:%d/api/version" % (base + index))

    # one pull through instance 0: every instance lists it, its bytes are on disk once, each runs on its GPU
    post_json("http://127.0.0.1:%d/api/pull" % base, {"model": "smollm2:135m", "stream": False})
    for index in range(4):
        url = "http://127.0.0.1:%d" % (base + index)
        assert [m["name"] for m in get_json(url + "/api/tags")["models"]] == ["smollm2:135m"]
        post_json(url + "/api/generate", {"model": "smollm2:135m", "prompt": "hi", "stream": False})
        assert [m["devices"] for m in get_json(url + "/api/ps")["models"]] == [[UUIDS[index]]]
    blobs = Path(role_vars["ollama_server_models_path"]) / "models" / "blobs"
    assert len([p for p in blobs.iterdir() if p.name.startswith("sha256-")]) == len(list(blobs.iterdir()))
    before = sorted(p.name for p in blobs.iterdir())

    # 4 -> 2: two containers go, the models stay
    two = run_playbook("server.yml", dict(variables, ollama_server_instances=2, ollama_server_instance_env={}), env=stand_in_env())
    assert two.rc == 0, two.stdout[-3000:]
    assert containers() == names[:2]
    assert sorted(r["item"] for r in two.results("Remove the containers of instances no longer asked for (the models stay)")["results"]) == names[2:]
    assert sorted(p.name for p in blobs.iterdir()) == before
    assert [m["name"] for m in get_json("http://127.0.0.1:%d/api/tags" % (base + 1))["models"]] == ["smollm2:135m"]

    # 2 -> 1: the single container of today, same name and port, the same models
    one = run_playbook("server.yml", dict(role_vars), env=stand_in_env())
    assert one.rc == 0, one.stdout[-3000:]
    assert containers() == [] and inspect(PREFIX)["State"]["Running"] is True
    assert [m["name"] for m in get_json("http://127.0.0.1:%d/api/tags" % base)["models"]] == ["smollm2:135m"]


def test_gpu_instances_get_device_requests_and_the_engines_refusal_is_explained(role_vars: dict) -> None:
    # The stand-in lists four GPUs; the engine is told to have the NVIDIA runtime (docker info's list, as
    # on a host whose toolkit is broken), so the role asks for the GPUs and the real engine refuses.
    variables = dict(role_vars, ollama_server_instances="per_gpu", ollama_server_gpu="nvidia", __ollama_server_nvidia_runtime=True)
    run = run_playbook("server.yml", variables, env=stand_in_env())
    assert run.rc == 2
    failure = run.results("Fail with the engine's refusal in words")
    assert 'could not select device driver "nvidia" with capabilities [[gpu]]' in failure["msg"]
    assert "Install it (apt-get install nvidia-container-toolkit)" in failure["msg"]
    assert "the models were not touched" in failure["msg"]
    names = ["%s-%d" % (PREFIX, i) for i in range(4)]
    assert containers() == names
    for index, name in enumerate(names):
        info = inspect(name)
        assert info["State"]["Running"] is False
        requests = info["HostConfig"]["DeviceRequests"]
        assert [(r["Driver"], r["DeviceIDs"], r["Capabilities"]) for r in requests] == [("nvidia", [UUIDS[index]], [["gpu"]])]
        assert env_of(name)["CUDA_VISIBLE_DEVICES"] == UUIDS[index]


@pytest.mark.parametrize(
    ("override", "stand_in", "fragment"),
    [
        ({"ollama_server_instances": "per_gpu"}, False, "ollama_server_instances is per_gpu, but no GPU was found (nvidia-smi does not answer)"),
        ({"ollama_server_instances": 5}, True, "ollama_server_instances asks for 5 instances, but there are only 4 GPUs to pin them to"),
        (
            {"ollama_server_instances": "per_gpu", "ollama_server_instance_env": [{}, {}, {}, {}, {"OLLAMA_NUM_PARALLEL": "4"}]},
            True,
            "ollama_server_instance_env has settings for 5 instances, but per_gpu found 4 GPUs, so instances 4 would not exist",
        ),
        ({"ollama_server_instances": "per_gpu", "ollama_server_visible_gpus": ["7"]}, True, "names GPUs that nvidia-smi does not list: 7"),
    ],
    ids=["per-gpu-without-gpus", "more-than-gpus", "settings-beyond-gpus", "unknown-gpu"],
)
def test_bad_instance_settings_fail_before_any_container_changes(role_vars: dict, override: dict, stand_in: bool, fragment: str) -> None:
    docker("run", "-d", "--name", PREFIX, "--label", "llmops.ollama.instance_of=other", role_vars["ollama_server_image"], check=True)
    before = inspect(PREFIX)["Id"]
    run = run_playbook("server.yml", dict(role_vars, **override), env=stand_in_env() if stand_in else {"PATH": os.environ.get("PATH", "")})
    assert run.rc == 2
    failed = [r for play in run.data["plays"] for task in play["tasks"] for r in [task["hosts"].get("localhost", {})] if r.get("failed")]
    assert fragment in json.dumps(failed), json.dumps(failed)[:2000]
    assert containers() == [] and inspect(PREFIX)["Id"] == before, "no container changed"


def test_a_port_range_that_collides_with_a_listener_names_it(role_vars: dict) -> None:
    base = role_vars["ollama_server_port"]
    holder = socket.socket()
    holder.bind(("127.0.0.1", base + 2))
    holder.listen(1)
    try:
        run = run_playbook("server.yml", dict(role_vars, ollama_server_instances=4), env=stand_in_env())
        assert run.rc == 2
        message = run.results("Fail for instance ports that other programs hold")["msg"]
        assert "collide with programs that listen there: port %d: pid %d (" % (base + 2, os.getpid()) in message
        assert message.endswith("No container was changed.")
        assert containers() == [] and inspect(PREFIX) is None
    finally:
        holder.close()
