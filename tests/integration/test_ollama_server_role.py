# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama_server role against the real Docker engine, with the simulator image in place of ollama/ollama."""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.integration.docker_support import build_sim_image, docker, inspect, own_name, remove, require_engine, volume_exists
from tests.integration.nginx_fixture import free_port
from tests.integration.playbook import run_playbook

pytestmark = pytest.mark.integration

CONTAINER = own_name("llmops-test-ollama")
VOLUME = own_name("llmops-test-models")


@pytest.fixture(scope="module")
def image() -> str:
    require_engine()
    return build_sim_image()


@pytest.fixture
def role_vars(image: str) -> dict:
    remove(CONTAINER, VOLUME)
    yield {
        "ollama_server_container_name": CONTAINER,
        "ollama_server_models_volume": VOLUME,
        "ollama_server_image": image,
        "ollama_server_image_pull": "never",
        "ollama_server_port": free_port(),
        "ollama_server_min_free_disk": "100 MB",
        "ollama_server_min_memory": "512 MB",
        "ollama_server_health_timeout": 60,
    }
    remove(CONTAINER, VOLUME)


def changed_tasks(run) -> list[str]:
    return [
        task["task"]["name"].split(" : ", 1)[-1] for play in run.data["plays"] for task in play["tasks"] if task["hosts"].get("localhost", {}).get("changed")
    ]


def get_json(url: str, timeout: float = 10) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.load(resp)


@pytest.mark.long
def test_deploy_is_healthy_idempotent_and_recreated_on_change(role_vars: dict) -> None:
    run = run_playbook("server.yml", role_vars)
    assert run.rc == 0, run.stdout[-3000:]
    assert "Run the Ollama container" in changed_tasks(run)
    health = run.results("Wait for the Ollama API")
    assert health["healthy"] is True
    assert health["api_url"] == "http://127.0.0.1:%s" % role_vars["ollama_server_port"]

    # auto on this GPU-less host: CPU, with a visible warning, and GPU facts saying so
    warning = run.results("Warn that Ollama will run on the CPU")
    assert warning["msg"].startswith("WARNING: no usable GPU")
    facts = run.results("Record the resources, the GPU facts and the container settings")["ansible_facts"]["ollama_server_gpu_facts"]
    assert facts == {"vendor": "none", "count": 0, "names": [], "memory": [], "driver": "", "used": "cpu"}
    preflight = run.results("Check disk and memory")
    assert preflight["msg"].startswith("Preflight passed: Docker ")

    info = inspect(CONTAINER)
    assert info is not None
    assert info["State"]["Running"] is True
    host_config = info["HostConfig"]
    assert host_config["RestartPolicy"]["Name"] == "unless-stopped"
    assert host_config["PortBindings"] == {"11434/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(role_vars["ollama_server_port"])}]}
    assert host_config["LogConfig"] == {"Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"}}
    assert info["Config"]["Healthcheck"]["Test"] == ["CMD", "ollama", "list"]
    assert info["Config"]["Labels"]["managed-by"] == "llmops.ollama"
    assert "OLLAMA_KEEP_ALIVE=5m" in info["Config"]["Env"]
    assert any(m["Type"] == "volume" and m["Name"] == VOLUME and m["Destination"] == "/root/.ollama" for m in info["Mounts"])
    assert get_json(health["api_url"] + "/api/version")["version"] == health["version"]

    again = run_playbook("server.yml", role_vars)
    assert again.rc == 0, again.stdout[-3000:]
    assert changed_tasks(again) == []
    assert again.stats["changed"] == 0
    assert inspect(CONTAINER)["Id"] == info["Id"]

    # check mode with a new setting: reported, not applied
    changed_vars = dict(role_vars, ollama_server_keep_alive="10m", ollama_server_num_parallel=2)
    check = run_playbook("server.yml", changed_vars, check=True)
    assert check.rc == 0, check.stdout[-3000:]
    assert "Run the Ollama container" in changed_tasks(check)
    assert inspect(CONTAINER)["Id"] == info["Id"]

    recreated = run_playbook("server.yml", changed_vars)
    assert recreated.rc == 0, recreated.stdout[-3000:]
    new = inspect(CONTAINER)
    assert new["Id"] != info["Id"]
    assert "OLLAMA_KEEP_ALIVE=10m" in new["Config"]["Env"]
    assert "OLLAMA_NUM_PARALLEL=2" in new["Config"]["Env"]
    assert recreated.results("Wait for the Ollama API")["healthy"] is True


@pytest.mark.long
def test_absent_keeps_the_models_unless_purged(role_vars: dict) -> None:
    assert run_playbook("server.yml", role_vars).rc == 0
    assert volume_exists(VOLUME)

    kept = run_playbook("server.yml", dict(role_vars, ollama_server_state="absent"))
    assert kept.rc == 0, kept.stdout[-3000:]
    assert inspect(CONTAINER) is None
    assert volume_exists(VOLUME)
    assert run_playbook("server.yml", dict(role_vars, ollama_server_state="absent")).stats["changed"] == 0

    purged = run_playbook("server.yml", dict(role_vars, ollama_server_state="absent", ollama_server_purge_data=True))
    assert purged.rc == 0, purged.stdout[-3000:]
    assert not volume_exists(VOLUME)


@pytest.mark.long
def test_host_network_host_directory_and_limits(role_vars: dict, tmp_path: Path) -> None:
    models = tmp_path / "srv" / "ollama-models"
    variables = dict(
        role_vars,
        ollama_server_host_network=True,
        ollama_server_models_path=str(models),
        ollama_server_memory_limit="1g",
        ollama_server_cpus=1.5,
    )
    run = run_playbook("server.yml", variables)
    assert run.rc == 0, run.stdout[-3000:]
    info = inspect(CONTAINER)
    host_config = info["HostConfig"]
    assert host_config["NetworkMode"] == "host" and not host_config["PortBindings"]
    assert "OLLAMA_HOST=127.0.0.1:%s" % role_vars["ollama_server_port"] in info["Config"]["Env"], "listens on the bind address of the host"
    assert (host_config["Memory"], host_config["NanoCpus"]) == (1024**3, 1_500_000_000)
    assert any(m["Type"] == "bind" and m["Source"] == str(models) and m["Destination"] == "/root/.ollama" for m in info["Mounts"])
    assert not volume_exists(VOLUME)

    # the models land in the host directory
    api = "http://127.0.0.1:%s" % role_vars["ollama_server_port"]
    request = urllib.request.Request(api + "/api/pull", data=json.dumps({"model": "smollm2:135m", "stream": False}).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        assert json.loads(response.read())["status"] == "success"
    assert any((models / "models" / "blobs").iterdir())

    again = run_playbook("server.yml", variables)
    assert again.rc == 0 and changed_tasks(again) == [], again.stdout[-3000:]

    kept = run_playbook("server.yml", dict(variables, ollama_server_state="absent"))
    assert kept.rc == 0 and inspect(CONTAINER) is None
    assert any((models / "models" / "blobs").iterdir()), "absent keeps the models"
    purged = run_playbook("server.yml", dict(variables, ollama_server_state="absent", ollama_server_purge_data=True))
    assert purged.rc == 0, purged.stdout[-3000:]
    assert not models.exists() and models.parent.exists(), "the purge removes the models directory, nothing above it"


def test_forced_nvidia_fails_in_preflight_without_a_container(role_vars: dict) -> None:
    run = run_playbook("server.yml", dict(role_vars, ollama_server_gpu="nvidia"))
    assert run.rc == 2
    failure = run.results("Fail for a forced GPU that cannot be used")
    assert failure["failed"] is True
    assert "ollama_server_gpu is nvidia" in failure["msg"]
    assert "Install the NVIDIA Container Toolkit" in failure["msg"]
    assert "No container was created." in failure["msg"]
    assert inspect(CONTAINER) is None
    assert not volume_exists(VOLUME)


def test_forced_amd_fails_without_devices(role_vars: dict) -> None:
    run = run_playbook("server.yml", dict(role_vars, ollama_server_gpu="amd"))
    assert run.rc == 2
    assert "/dev/kfd and /dev/dri are not both present" in run.results("Fail for a forced GPU that cannot be used")["msg"]
    assert inspect(CONTAINER) is None


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"ollama_server_image": "ollama/ollama: latest"}, "is not an image reference"),
        ({"ollama_server_port": 70000}, "ollama_server_port 70000 is out of range"),
        ({"ollama_server_bind_address": "999.1.1.1"}, "is not an IPv4 or IPv6 address"),
        ({"ollama_server_bind_address": "localhost; rm -rf /"}, "is not an IPv4 or IPv6 address"),
        ({"ollama_server_gpu": "intel"}, "ollama_server_gpu"),
        ({"ollama_server_env": {"OLLAMA_DEBUG": 1}}, "quote numbers and booleans"),
        ({"ollama_server_models_path": "relative/dir"}, "must be an absolute path"),
        ({"ollama_server_models_path": "/"}, "is / or a top-level directory"),
        ({"ollama_server_models_path": "/var/"}, "is / or a top-level directory"),
        ({"ollama_server_models_path": "/srv/../etc"}, "climbs with .."),
        ({"ollama_server_min_free_disk": "lots"}, "lots"),
        ({"ollama_server_port": "eleven"}, "ollama_server_port"),
        ({"ollama_server_load_timeout": "soon"}, "is not a Go duration (such as 10m or 1h30m) or whole seconds"),
        ({"ollama_server_gpu_overhead": "lots"}, "lots"),
        ({"ollama_server_max_queue": 0}, "ollama_server_max_queue must be at least 1"),
        ({"ollama_server_visible_gpus": ["0,1"]}, "ollama_server_visible_gpus needs GPU indices or UUIDs"),
        ({"ollama_server_https_proxy": "proxy.example.com:3128"}, "ollama_server_https_proxy must be empty or a proxy URL"),
        ({"ollama_server_no_proxy": ["a.example, b.example"]}, "ollama_server_no_proxy needs one host, domain or CIDR per item"),
        ({"ollama_server_ca_certificates": ["/nonexistent/private-ca.pem"]}, "files are not readable on the controller: /nonexistent/private-ca.pem"),
        ({"ollama_server_watchdog_inference_minutes": -1}, "ollama_server_watchdog_inference_minutes must be 0 (off) or more"),
        ({"ollama_server_cloud": "maybe"}, "ollama_server_cloud"),
    ],
)
def test_bad_variables_fail_before_any_change(role_vars: dict, override: dict, fragment: str) -> None:
    run = run_playbook("server.yml", dict(role_vars, **override))
    assert run.rc == 2
    failed = [result for play in run.data["plays"] for task in play["tasks"] for result in [task["hosts"].get("localhost", {})] if result.get("failed")]
    assert failed, run.stdout[-2000:]
    message = json.dumps(failed)
    assert fragment in message
    assert inspect(CONTAINER) is None
    assert not volume_exists(VOLUME)


@pytest.mark.parametrize(
    ("override", "fragments"),
    [
        ({"ollama_server_min_free_disk": "100 PB"}, ["free, less than ollama_server_min_free_disk (100 PB): free disk space there"]),
        ({"ollama_server_min_memory": "64 PiB"}, ["of memory, less than ollama_server_min_memory (64 PiB): add memory"]),
    ],
    ids=["disk", "memory"],
)
def test_preflight_says_what_failed_and_changes_nothing(role_vars: dict, override: dict, fragments: list) -> None:
    run = run_playbook("server.yml", dict(role_vars, **override))
    assert run.rc == 2
    failure = run.results("Check disk and memory")
    assert failure["failed"] is True
    for fragment in fragments:
        assert fragment in failure["msg"]
    assert failure["msg"].startswith("Preflight failed:") and failure["msg"].endswith("Nothing was changed.")
    other = "ollama_server_min_memory" if "ollama_server_min_free_disk" in override else "ollama_server_min_free_disk"
    assert other not in failure["msg"], "only the check that failed is named"
    assert inspect(CONTAINER) is None
    assert not volume_exists(VOLUME)


def test_a_docker_engine_that_does_not_answer_fails_in_preflight(role_vars: dict, tmp_path: Path) -> None:
    run = run_playbook("server.yml", role_vars, env={"DOCKER_HOST": "unix://%s" % (tmp_path / "no-such.sock")})
    assert run.rc == 2
    failure = run.results("Fail because the Docker engine does not answer")
    assert failure["msg"].startswith("Preflight: the Docker engine does not answer (")
    assert "Install it (apt-get install docker.io" in failure["msg"] and failure["msg"].endswith("Nothing was changed.")
    assert inspect(CONTAINER) is None


def test_unhealthy_container_fails_with_its_log(role_vars: dict) -> None:
    bad = dict(role_vars, ollama_server_env={"OLLAMA_HOST": "0.0.0.0:99999"}, ollama_server_health_timeout=6)
    run = run_playbook("server.yml", bad)
    assert run.rc == 2
    failure = run.results("Fail with the log")
    assert failure["failed"] is True
    assert "did not answer at http://127.0.0.1:%s within 6 seconds" % role_vars["ollama_server_port"] in failure["msg"]
    assert "Last 50 lines of its log:" in failure["msg"]
    assert "address 0.0.0.0:99999: invalid port" in failure["msg"].split("Last 50 lines of its log:")[1]
    # the container exits at once and unless-stopped would restart it for ever: the role stops it
    assert "It kept exiting (" in failure["msg"] and "so it was stopped to end the restart loop" in failure["msg"]
    before = inspect(CONTAINER)
    assert (before["State"]["Running"], before["State"]["Restarting"]) == (False, False)
    assert before["State"]["Status"] in ("created", "exited"), before["State"]
    time.sleep(3)
    after = inspect(CONTAINER)
    assert (after["State"]["StartedAt"], after["RestartCount"], after["State"]["Running"]) == (
        before["State"]["StartedAt"],
        before["RestartCount"],
        False,
    ), "no restart after the role stopped it"


class Receiver(http.server.BaseHTTPRequestHandler):
    events: list = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        Receiver.events.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.mark.long
def test_watchdog_restarts_a_stalled_server_and_alerts(role_vars: dict, tmp_path: Path) -> None:
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Receiver.events = []
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    paths = {
        "ollama_server_watchdog_bin": str(tmp_path / "bin" / "ollama_watchdog.py"),
        "ollama_server_watchdog_config": str(tmp_path / "etc" / "watchdog.json"),
        "ollama_server_watchdog_state_dir": str(tmp_path / "state"),
        "ollama_server_watchdog_log": str(tmp_path / "watchdog.log"),
        "ollama_server_watchdog_cron_file": str(tmp_path / "cron.d" / "llmops-ollama-watchdog"),
    }
    (tmp_path / "cron.d").mkdir()
    variables = dict(
        role_vars,
        ollama_server_watchdog=True,
        ollama_server_watchdog_scheduler="auto",
        ollama_server_watchdog_failures=2,
        ollama_server_watchdog_timeout=1,
        ollama_server_alert_webhook="http://127.0.0.1:%s/alerts" % receiver.server_address[1],
        **paths,
    )
    try:
        run = run_playbook("server.yml", variables)
        assert run.rc == 0, run.stdout[-3000:]
        cron = Path(paths["ollama_server_watchdog_cron_file"]).read_text()
        assert "* * * * * root python3 %s --config %s" % (paths["ollama_server_watchdog_bin"], paths["ollama_server_watchdog_config"]) in cron
        assert "sleep 30 &&" in cron
        assert oct(Path(paths["ollama_server_watchdog_config"]).stat().st_mode & 0o777) == "0o600"
        second = run_playbook("server.yml", variables)
        assert second.stats["changed"] == 0
        # a converged host does not ask again for the watchdog's directories: one look at them, the file task skipped
        tasks = [task for play in second.data["plays"] for task in play["tasks"]]
        dirs = [result for task in tasks if task["task"]["name"].endswith(": Create the watchdog directories") for result in task["hosts"].values()]
        assert len(dirs) == 1 and dirs[0].get("skipped"), dirs

        api = "http://127.0.0.1:%s" % role_vars["ollama_server_port"]

        def probe() -> dict:
            subprocess.run(["python3", paths["ollama_server_watchdog_bin"], "--config", paths["ollama_server_watchdog_config"]], check=True, timeout=120)
            return json.loads((tmp_path / "state" / "status.json").read_text())

        assert probe()["healthy"] is True
        started = inspect(CONTAINER)["State"]["StartedAt"]

        # stall the server: every answer takes 3 s, the probe allows 1 s
        req = urllib.request.Request(api + "/_sim/faults", data=json.dumps({"slow_ms": 3000}).encode(), method="POST")
        urllib.request.urlopen(req, timeout=10).close()
        first = probe()
        assert first["healthy"] is False
        assert first["consecutive_failures"] == 1
        second = probe()
        assert second["restarts"] == 1
        assert inspect(CONTAINER)["State"]["StartedAt"] != started

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                get_json(api + "/api/version", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        recovered = probe()
        assert recovered["healthy"] is True

        assert [e["event"] for e in Receiver.events] == ["unhealthy", "restarted", "recovered"]
        assert [e["level"] for e in Receiver.events] == ["WARN", "CRITICAL", "INFO"]
        assert all(e["host"] == "localhost" and e["container"] == CONTAINER and e["detail"] for e in Receiver.events)
        log = Path(paths["ollama_server_watchdog_log"]).read_text()
        assert "CRITICAL restarted" in log
        assert "INFO recovered" in log

        # a webhook that fails is logged, never fatal
        config = json.loads(Path(paths["ollama_server_watchdog_config"]).read_text())
        dead = free_port()
        config.update(webhook="http://127.0.0.1:%s/hook?token=SECRET-TOKEN" % dead, api_url="http://127.0.0.1:%s" % free_port())
        Path(paths["ollama_server_watchdog_config"]).write_text(json.dumps(config))
        assert probe()["healthy"] is False
        log = Path(paths["ollama_server_watchdog_log"]).read_text()
        assert "WARN webhook http://127.0.0.1:%s/... failed: " % dead in log
        assert "SECRET-TOKEN" not in log, "the webhook's token stays out of the log"
    finally:
        receiver.shutdown()
        receiver.server_close()
        docker("rm", "-f", CONTAINER, check=False)


def test_preload_models_after_the_health_check(role_vars: dict) -> None:
    variables = dict(role_vars, ollama_server_preload_models=["smollm2:135m"])
    run = run_playbook("server.yml", variables)
    assert run.rc == 0, run.stdout[-3000:]
    assert "Load the preload models (pulled first when missing)" in changed_tasks(run)
    api = "http://127.0.0.1:%s" % role_vars["ollama_server_port"]
    loaded = get_json(api + "/api/ps")["models"]
    assert [m["name"] for m in loaded] == ["smollm2:135m"]
    assert int(loaded[0]["expires_at"][:4]) > 2300  # keep_alive -1: loaded for good (Ollama reports now + 292 years)

    again = run_playbook("server.yml", variables)
    assert again.rc == 0, again.stdout[-3000:]
    assert changed_tasks(again) == []


def container_env(name: str) -> dict:
    return dict(item.split("=", 1) for item in inspect(name)["Config"]["Env"])


def make_ca(directory: Path, name: str) -> Path:
    """A self-signed CA certificate in PEM form, made with the openssl command."""
    key, cert = directory / (name + ".key"), directory / (name + ".pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=%s" % name],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert


@pytest.mark.long
def test_server_settings_and_private_cas_reach_the_container(role_vars: dict, tmp_path: Path) -> None:
    ca_one, ca_two = make_ca(tmp_path, "llmops-test-ca-one"), make_ca(tmp_path, "llmops-test-ca-two")
    ca_dir = tmp_path / "ca"
    variables = dict(
        role_vars,
        ollama_server_max_queue=64,
        ollama_server_load_timeout="10m",
        ollama_server_sched_spread=True,
        ollama_server_gpu_overhead="512 MiB",
        ollama_server_visible_gpus=["0", "GPU-5d4c"],
        ollama_server_https_proxy="http://proxy.example.com:3128",
        ollama_server_no_proxy=["mirror.internal", "10.0.0.0/8"],
        ollama_server_ca_certificates=[str(ca_one)],
        ollama_server_ca_dir=str(ca_dir),
    )
    run = run_playbook("server.yml", variables)
    assert run.rc == 0, run.stdout[-3000:]
    env = container_env(CONTAINER)
    assert {key: env.get(key) for key in ("OLLAMA_MAX_QUEUE", "OLLAMA_LOAD_TIMEOUT", "OLLAMA_SCHED_SPREAD", "OLLAMA_GPU_OVERHEAD")} == {
        "OLLAMA_MAX_QUEUE": "64",
        "OLLAMA_LOAD_TIMEOUT": "10m",
        "OLLAMA_SCHED_SPREAD": "1",
        "OLLAMA_GPU_OVERHEAD": str(512 * 1024 * 1024),
    }
    assert (env["HTTPS_PROXY"], env["NO_PROXY"]) == ("http://proxy.example.com:3128", "mirror.internal,10.0.0.0/8")
    # cloud features are off unless asked
    assert env["OLLAMA_NO_CLOUD"] == "1"
    # this host has no GPU: the selection has nothing to select
    assert "CUDA_VISIBLE_DEVICES" not in env and "ROCR_VISIBLE_DEVICES" not in env

    # the CA bundle: on the host, mounted read-only, named by SSL_CERT_FILE, readable inside the container
    bundle = ca_dir / "llmops-ca-bundle.pem"
    assert bundle.read_text() == ca_one.read_text().strip() + "\n"
    assert env["SSL_CERT_FILE"] == "/usr/local/share/llmops-ollama/ca/llmops-ca-bundle.pem"
    mounts = {m["Destination"]: m for m in inspect(CONTAINER)["Mounts"]}
    assert mounts["/usr/local/share/llmops-ollama/ca"]["Source"] == str(ca_dir)
    assert mounts["/usr/local/share/llmops-ollama/ca"]["RW"] is False
    inside = docker("exec", CONTAINER, "python3", "-c", "import os; print(open(os.environ['SSL_CERT_FILE']).read(), end='')")
    assert inside.stdout == bundle.read_text()
    # ... and a TLS library in the container loads it as a trusted CA
    loaded = docker(
        "exec",
        CONTAINER,
        "python3",
        "-c",
        "import ssl; c = ssl.create_default_context(); print([dict(x[0] for x in s['subject'])['commonName'] for s in c.get_ca_certs()])",
    )
    assert "llmops-test-ca-one" in loaded.stdout

    assert changed_tasks(run_playbook("server.yml", variables)) == []

    # a second CA: the bundle changes and the running container is restarted to read it (not recreated)
    before = inspect(CONTAINER)
    run = run_playbook("server.yml", dict(variables, ollama_server_ca_certificates=[str(ca_one), str(ca_two)]))
    assert run.rc == 0, run.stdout[-3000:]
    assert changed_tasks(run) == ["Write the CA bundle", "Restart the container for the changed CA certificates"]
    after = inspect(CONTAINER)
    assert after["Id"] == before["Id"] and after["State"]["StartedAt"] != before["State"]["StartedAt"]
    assert bundle.read_text() == ca_one.read_text().strip() + "\n" + ca_two.read_text().strip() + "\n"

    # cloud on, no CAs: the variables and the mount go away
    run = run_playbook("server.yml", dict(role_vars, ollama_server_cloud=True, ollama_server_ca_dir=str(ca_dir)))
    assert run.rc == 0, run.stdout[-3000:]
    env = container_env(CONTAINER)
    assert not {"OLLAMA_NO_CLOUD", "SSL_CERT_FILE", "HTTPS_PROXY", "OLLAMA_MAX_QUEUE"} & set(env)
    assert "/usr/local/share/llmops-ollama/ca" not in {m["Destination"] for m in inspect(CONTAINER)["Mounts"]}
    assert not bundle.exists()


def test_a_ca_file_without_a_certificate_fails_before_any_change(role_vars: dict, tmp_path: Path) -> None:
    key = tmp_path / "not-a-cert.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
    run = run_playbook("server.yml", dict(role_vars, ollama_server_ca_certificates=[str(key)], ollama_server_ca_dir=str(tmp_path / "ca")))
    assert run.rc == 2
    message = json.dumps(run.results("Check values the argument spec cannot"))
    assert "these files hold no PEM certificate (-----BEGIN CERTIFICATE-----): %s" % key in message
    assert inspect(CONTAINER) is None and not (tmp_path / "ca").exists()


def test_require_gpu_fails_for_preloaded_models_on_the_cpu_and_passes_in_vram(role_vars: dict) -> None:
    variables = dict(role_vars, ollama_server_preload_models=["smollm2:135m"], ollama_server_require_gpu=True)
    run = run_playbook("server.yml", variables)
    assert run.rc == 2
    failure = run.results("Check that the preloaded models run on the GPU")
    assert "runs models on the CPU although require_gpu is set: smollm2:135m runs wholly on the CPU (0% of it in GPU memory)" in failure["msg"]

    # the simulator with --gpu (OLLAMA_SIM_GPU) reports every loaded model in VRAM
    run = run_playbook("server.yml", dict(variables, ollama_server_env={"OLLAMA_SIM_GPU": "1"}))
    assert run.rc == 0, run.stdout[-3000:]
    placement = run.results("Check that the preloaded models run on the GPU")
    assert placement["gpu_warnings"] == [] and [m["gpu_percent"] for m in placement["loaded"]] == [100.0]


def test_watchdog_restarts_after_k_failed_inference_probes_and_says_why(role_vars: dict, tmp_path: Path) -> None:
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Receiver.events = []
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    paths = {
        "ollama_server_watchdog_bin": str(tmp_path / "bin" / "ollama_watchdog.py"),
        "ollama_server_watchdog_config": str(tmp_path / "etc" / "watchdog.json"),
        "ollama_server_watchdog_state_dir": str(tmp_path / "state"),
        "ollama_server_watchdog_log": str(tmp_path / "watchdog.log"),
        "ollama_server_watchdog_cron_file": str(tmp_path / "cron.d" / "llmops-ollama-watchdog"),
    }
    (tmp_path / "cron.d").mkdir()
    variables = dict(
        role_vars,
        ollama_server_preload_models=["smollm2:135m"],
        ollama_server_watchdog=True,
        ollama_server_watchdog_scheduler="cron",
        ollama_server_watchdog_failures=3,
        ollama_server_watchdog_inference_minutes=5,
        ollama_server_watchdog_inference_timeout=2,
        ollama_server_alert_webhook="http://127.0.0.1:%s/alerts" % receiver.server_address[1],
        **paths,
    )
    api = "http://127.0.0.1:%s" % role_vars["ollama_server_port"]
    try:
        run = run_playbook("server.yml", variables)
        assert run.rc == 0, run.stdout[-3000:]
        config = json.loads(Path(paths["ollama_server_watchdog_config"]).read_text())
        assert (config["inference_interval"], config["inference_timeout"], config["inference_model"]) == (300, 2, "")

        def probe() -> dict:
            subprocess.run(["python3", paths["ollama_server_watchdog_bin"], "--config", paths["ollama_server_watchdog_config"]], check=True, timeout=120)
            return json.loads((tmp_path / "state" / "status.json").read_text())

        healthy = probe()
        assert healthy["healthy"] is True and healthy["last_detail"].startswith("version ")
        assert "inference smollm2:135m answered in " in healthy["last_detail"]
        started = inspect(CONTAINER)["State"]["StartedAt"]

        # a hung runner: /api/version still answers, generation never does
        req = urllib.request.Request(api + "/_sim/faults", data=json.dumps({"hang_inference": True}).encode(), method="POST")
        urllib.request.urlopen(req, timeout=10).close()
        assert get_json(api + "/api/version")["version"]
        state = probe()
        assert state["healthy"] is True and state["last_detail"].startswith("version "), "within the 5 minutes: the version check only"
        # five minutes pass: the inference check is due again
        status = tmp_path / "state" / "status.json"
        status.write_text(json.dumps(dict(json.loads(status.read_text()), last_inference=time.time() - 301)))
        for count in (1, 2):
            state = probe()
            assert (state["healthy"], state["consecutive_failures"], state["failed_check"]) == (False, count, "inference")
            assert inspect(CONTAINER)["State"]["StartedAt"] == started, "no restart before K failures"
        restarted = probe()
        assert restarted["restarts"] == 1 and restarted["consecutive_failures"] == 0
        assert inspect(CONTAINER)["State"]["StartedAt"] != started

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                get_json(api + "/api/version", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        recovered = probe()
        assert recovered["healthy"] is True and recovered["inference_failing"] is False

        assert [(e["event"], e["check"], e["level"]) for e in Receiver.events] == [
            ("unhealthy", "inference", "WARN"),
            ("restarted", "inference", "CRITICAL"),
            ("recovered", "inference", "INFO"),
        ]
        why = "inference probe of smollm2:135m: POST /api/generate failed: no answer within 2 seconds"
        assert Receiver.events[0]["detail"] == "inference check failed: " + why
        assert Receiver.events[1]["detail"].startswith("after 3 failed inference checks (%s); docker restart %s: done" % (why, CONTAINER))
        assert "inference smollm2:135m answered in " in Receiver.events[2]["detail"]
    finally:
        receiver.shutdown()
        receiver.server_close()
        docker("rm", "-f", CONTAINER, check=False)
