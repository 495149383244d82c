# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a pull or a load needs before it starts: the registry manifest, disk and memory.

* :func:`fetch_manifest` reads ``/v2/<namespace>/<model>/manifests/<tag>``
  (Docker Registry HTTP API v2) so the bytes a pull needs are known first.
* :func:`space_needed` subtracts the blobs already in ``<models>/blobs``.
* :func:`free_bytes`, :func:`mem_available` and :func:`vram_free` read the host.

Every reader returns None or raises :class:`ResourceError` with a plain
reason, so the caller can warn: a check that cannot be made is never a pass.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlsplit
from ansible.module_utils.urls import Request

from ansible_collections.llmops.ollama.plugins.module_utils._names import DEFAULT_HOST, ModelName

OLLAMA_REGISTRY = "https://registry.ollama.ai"
MANIFEST_ACCEPT = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json;q=0.9"
MODEL_MEDIA_TYPE = "application/vnd.ollama.image.model"


class ResourceError(Exception):
    """A resource (registry, disk, memory) could not be read; the message says which and why."""


class ManifestNotFound(ResourceError):
    """The registry answered that it has no such model (HTTP 404): a pull of it fails too."""


def redact_url(url: str) -> str:
    """A URL without the credentials it may carry (``user:secret@``), for messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()


class Manifest:
    """A registry manifest: its layers (with the config blob), their total size, and its digest."""

    def __init__(self, raw: bytes, url: str) -> None:
        self.raw = raw
        self.url = url
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError:
            raise ResourceError("the registry answered %s with something that is not a JSON manifest" % url) from None
        if not isinstance(data, dict) or not isinstance(data.get("layers"), list):
            raise ResourceError("the manifest at %s has no layers list" % url)
        self.data = data
        blobs: List[Dict[str, Any]] = []
        for item in [data.get("config"), *list(data["layers"])]:
            if isinstance(item, dict) and isinstance(item.get("digest"), str):
                blobs.append({"digest": item["digest"], "size": int(item.get("size") or 0), "mediaType": item.get("mediaType", "")})
        self.blobs = blobs
        # The digest Ollama lists in /api/tags is the sha256 of the manifest it stores.
        self.digest = hashlib.sha256(raw).hexdigest()

    @property
    def total(self) -> int:
        return sum(blob["size"] for blob in self.blobs)

    @property
    def model_size(self) -> int:
        """Bytes of the model weights layer(s), what a load brings into memory."""
        return sum(blob["size"] for blob in self.blobs if blob["mediaType"] == MODEL_MEDIA_TYPE)


def registry_base(name: ModelName, registry_url: Optional[str] = None, insecure: bool = False) -> str:
    """The registry base URL for a model: registry_url when given, else from the name."""
    if registry_url:
        return registry_url.rstrip("/")
    if name.host.lower() == DEFAULT_HOST:
        return OLLAMA_REGISTRY
    scheme = name.scheme or ("http" if insecure else "https")
    return "%s://%s" % (scheme, name.host)


def registry_label(name: ModelName) -> str:
    """``registry.ollama.ai/library``: where a model name says the model lives."""
    return "%s/%s" % (name.host, name.namespace)


def fetch_manifest(
    name: ModelName,
    registry_url: Optional[str] = None,
    insecure: bool = False,
    validate_certs: bool = True,
    timeout: float = 15,
    request_factory: Callable[..., Any] = Request,
) -> Manifest:
    """GET the model's manifest from its registry; raise ResourceError saying why it cannot be read."""
    url = "%s/v2/%s/manifests/%s" % (registry_base(name, registry_url, insecure), name.registry_path, name.tag)
    request = request_factory(
        headers={"Accept": MANIFEST_ACCEPT},
        validate_certs=validate_certs and not insecure,
        timeout=timeout,
        follow_redirects="safe",
    )
    try:
        response = request.open("GET", url)
        try:
            raw = response.read()
        finally:
            response.close()
    except HTTPError as exc:
        if exc.code == 404:
            raise ManifestNotFound("the registry has no manifest for %s at %s (HTTP 404)" % (name.display, redact_url(url))) from None
        raise ResourceError("the registry answered GET %s with HTTP %s" % (redact_url(url), exc.code)) from None
    except (URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ResourceError("the registry at %s cannot be reached: %s" % (redact_url(url), reason)) from None
    return Manifest(raw, redact_url(url))


def blob_file(models_path: str, digest: str) -> str:
    """Where Ollama keeps a blob: ``<models>/blobs/sha256-<hex>``."""
    return os.path.join(models_path, "blobs", digest.replace(":", "-"))


def space_needed(manifest: Manifest, models_path: str) -> Tuple[int, int]:
    """(bytes still to download, bytes already on disk) for a manifest's blobs.

    A blob counts as present only when its file is complete (partial downloads
    are preallocated by Ollama, so they take their full size already). Raises
    ResourceError when the blobs directory cannot be read.
    """
    blobs_dir = os.path.join(models_path, "blobs")
    if not os.path.isdir(blobs_dir):
        if not os.path.isdir(models_path):
            raise ResourceError("the models directory %s does not exist on this host" % models_path)
        return manifest.total, 0
    if not os.access(blobs_dir, os.R_OK | os.X_OK):
        raise ResourceError("the blobs directory %s cannot be read (permission denied)" % blobs_dir)
    needed = present = 0
    for blob in manifest.blobs:
        try:
            size = os.path.getsize(blob_file(models_path, blob["digest"]))
        except OSError:
            size = -1
        if size == blob["size"]:
            present += blob["size"]
        else:
            needed += blob["size"]
    return needed, present


def disk_space(path: str) -> Tuple[int, int]:
    """Bytes free for an unprivileged writer, and bytes in all, of the file system holding path (OSError if unreadable)."""
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize, stat.f_blocks * stat.f_frsize


def free_bytes(path: str) -> int:
    """Bytes free on the file system that holds path, or would hold it: its nearest existing parent (ResourceError if unreadable)."""
    probe = path
    while probe and not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    try:
        return disk_space(probe or "/")[0]
    except OSError as exc:
        raise ResourceError("the free space at %s cannot be read: %s" % (path, exc.strerror or exc)) from None


def default_models_path(environ: Optional[Dict[str, str]] = None) -> str:
    """OLLAMA_MODELS, else ~/.ollama/models, as the Ollama server finds its models."""
    env = os.environ if environ is None else environ
    value = env.get("OLLAMA_MODELS", "").strip()
    if value:
        return value
    return os.path.join(os.path.expanduser("~"), ".ollama", "models")


def api_is_local(api_url: str) -> bool:
    """Whether api_url points at this host (loopback), so its disk is ours to read."""
    host = urlsplit(api_url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mem_available(meminfo: str = "/proc/meminfo") -> int:
    """MemAvailable in bytes (ResourceError when it cannot be read)."""
    try:
        with open(meminfo) as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError) as exc:
        raise ResourceError("available memory cannot be read from %s: %s" % (meminfo, exc)) from None
    raise ResourceError("%s has no MemAvailable line" % meminfo)


def vram_free(run_command: Callable[[List[str]], Tuple[int, str, str]], nvidia_smi: Optional[str]) -> Optional[int]:
    """Free GPU memory in bytes summed over NVIDIA GPUs, or None without nvidia-smi.

    ``run_command`` is AnsibleModule.run_command (or a stand-in): argv -> (rc, stdout, stderr).
    """
    if not nvidia_smi:
        return None
    try:
        rc, out, _err = run_command([nvidia_smi, "--query-gpu=memory.free", "--format=csv,noheader,nounits"])
    except OSError:
        return None
    if rc != 0:
        return None
    total = 0
    for raw in out.splitlines():
        line = raw.strip()
        if line.isdigit():
            total += int(line) * 1024 * 1024
    return total
