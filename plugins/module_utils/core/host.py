# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the host offers a pull or a load: the models disk, memory and GPU memory.

* :func:`space_needed` subtracts the blobs already in ``<models>/blobs`` from a manifest's.
* :func:`free_bytes`, :func:`disk_space`, :func:`mem_available` and :func:`vram_free` read the host.
* :func:`api_is_local` and :func:`default_models_path` say whether and where the models disk can be read.

Every reader returns None or raises :class:`ResourceError` with a plain
reason, so the caller can warn: a check that cannot be made is never a pass.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlsplit


class ResourceError(Exception):
    """A resource (registry, disk, memory) could not be read; the message says which and why."""


def blob_file(models_path: str, digest: str) -> str:
    """Where Ollama keeps a blob: ``<models>/blobs/sha256-<hex>``."""
    return os.path.join(models_path, "blobs", digest.replace(":", "-"))


def space_needed(manifest: Any, models_path: str) -> Tuple[int, int]:
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


class HostChecks:
    """The host's side of a pull or a load: the models disk and the memory, read only."""

    def __init__(
        self,
        api_url: str,
        local: bool,
        models_path: Optional[str],
        min_free_space: int = 0,
        run_command: Optional[Callable[[List[str]], Tuple[int, str, str]]] = None,
        nvidia_smi: Optional[str] = None,
    ) -> None:
        self.api_url = api_url
        self.local = local
        self.models_path = models_path
        self.min_free_space = min_free_space
        self.run_command = run_command
        self.nvidia_smi = nvidia_smi
