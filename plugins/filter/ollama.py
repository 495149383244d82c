# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Small pure filters the roles need: sizes, IP addresses, nvidia-smi output."""

from __future__ import annotations

import io
from typing import Any, Dict, List

from ansible.errors import AnsibleFilterError

# What the filters need is imported when one of them runs, not when this file is loaded: to find any filter of this
# collection, a worker process loads every file of this directory (several filters share a file), and it compiles the
# collection's files anew in each worker (ansible-core keeps no byte-code of them). The roles use the filters of the
# other files on every host of a fleet, and these rarely; the imports cost 4 ms in each worker that loaded this file.
# pylint: disable=import-outside-toplevel


def _units():
    """The collection's one convention for sizes (module_utils core.units)."""
    from ansible_collections.llmops.ollama.plugins.module_utils.core import units  # noqa: PLC0415

    return units


def _parse_size(value: Any) -> int:
    units = _units()
    try:
        return units.parse_size(value)
    except units.InvalidSize as exc:
        raise AnsibleFilterError(str(exc)) from None


def _format_size(value: Any) -> str:
    """Bytes in the collection's one convention (decimal units, one decimal: ``79.5 GB``), as every module prints them."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError("format_size needs a number of bytes, got %r" % (value,)) from None
    try:
        return _units().format_size(number)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from None


def _is_ip(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    import ipaddress  # noqa: PLC0415

    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _mib_to_bytes(text: str) -> int:
    number, unit = [*text.strip().split(" ", 1), ""][:2]
    factor = {"MiB": 1024**2, "GiB": 1024**3, "KiB": 1024}.get(unit.strip(), 1)
    return int(float(number) * factor)


NOT_REPORTED = ("N/A", "Not Supported", "Unknown Error", "Insufficient Permissions")


def _nvidia_gpus(output: Any) -> List[Dict[str, Any]]:
    """Parse `nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv`."""
    if not isinstance(output, str):
        raise AnsibleFilterError("nvidia_gpus expects the text nvidia-smi printed, got %s" % type(output).__name__)
    import csv  # noqa: PLC0415

    rows = [row for row in csv.reader(io.StringIO(output.strip()), skipinitialspace=True) if row]
    if not rows:
        return []
    header = [cell.strip().split(" [")[0] for cell in rows[0]]
    wanted = ("name", "memory.total", "driver_version")
    if any(column not in header for column in wanted):
        raise AnsibleFilterError("nvidia_gpus: the nvidia-smi output has no header %s (got %r)" % (", ".join(wanted), rows[0]))
    gpus = []
    for row in rows[1:]:
        cells = dict(zip(header, (cell.strip() for cell in row)))
        if cells["memory.total"].strip("[]") in NOT_REPORTED:
            # nvidia-smi prints these where the driver does not know (MIG slices, some embedded boards): unknown, not an error
            gpus.append({"name": cells["name"], "memory_bytes": None, "memory": "unknown", "driver": cells["driver_version"]})
            continue
        try:
            memory = _mib_to_bytes(cells["memory.total"])
        except ValueError:
            raise AnsibleFilterError("nvidia_gpus: cannot read the memory %r of GPU %r" % (cells["memory.total"], cells["name"])) from None
        gpus.append({"name": cells["name"], "memory_bytes": memory, "memory": _units().format_size(memory), "driver": cells["driver_version"]})
    return gpus


class FilterModule:
    """llmops.ollama filters."""

    def filters(self) -> Dict[str, Any]:
        return {"parse_size": _parse_size, "format_size": _format_size, "is_ip": _is_ip, "nvidia_gpus": _nvidia_gpus}
