# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's filters: nvidia-smi CSV, IP addresses, sizes."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.filter.ollama import FilterModule

FILTERS = FilterModule().filters()

# What nvidia-smi 550 prints for --query-gpu=name,memory.total,driver_version --format=csv
TWO_GPUS = """name, memory.total [MiB], driver_version
NVIDIA GeForce RTX 4090, 24564 MiB, 550.54.14
NVIDIA A100-SXM4-80GB, 81920 MiB, 550.54.14
"""


def test_nvidia_smi_two_gpus() -> None:
    assert FILTERS["nvidia_gpus"](TWO_GPUS) == [
        {"name": "NVIDIA GeForce RTX 4090", "memory_bytes": 24564 * 1024**2, "memory": "25.8 GB", "driver": "550.54.14"},
        {"name": "NVIDIA A100-SXM4-80GB", "memory_bytes": 81920 * 1024**2, "memory": "85.9 GB", "driver": "550.54.14"},
    ]


def test_nvidia_smi_header_only_means_no_gpu() -> None:
    assert FILTERS["nvidia_gpus"]("name, memory.total [MiB], driver_version\n") == []
    assert FILTERS["nvidia_gpus"]("") == []


@pytest.mark.parametrize("value", ["[N/A]", "[Not Supported]", "N/A"])
def test_nvidia_smi_memory_it_cannot_report_is_unknown(value: str) -> None:
    text = "name, memory.total [MiB], driver_version\nNVIDIA A100 MIG 1g.10gb, %s, 550.54.14\nTesla T4, 15360 MiB, 550.54.14\n" % value
    assert FILTERS["nvidia_gpus"](text) == [
        {"name": "NVIDIA A100 MIG 1g.10gb", "memory_bytes": None, "memory": "unknown", "driver": "550.54.14"},
        {"name": "Tesla T4", "memory_bytes": 15360 * 1024**2, "memory": "16.1 GB", "driver": "550.54.14"},
    ]


def test_nvidia_smi_column_order_does_not_matter() -> None:
    text = "driver_version, name, memory.total [MiB]\n535.104.05, Tesla T4, 15360 MiB\n"
    assert FILTERS["nvidia_gpus"](text) == [{"name": "Tesla T4", "memory_bytes": 15360 * 1024**2, "memory": "16.1 GB", "driver": "535.104.05"}]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", "has no header"),
        ("name, memory.total [MiB], driver_version\nTesla T4, lots MiB, 535.104.05\n", "cannot read the memory 'lots MiB' of GPU 'Tesla T4'"),
        (None, "expects the text nvidia-smi printed"),
    ],
)
def test_nvidia_smi_garbage_is_a_clear_error(text: object, fragment: str) -> None:
    with pytest.raises(AnsibleFilterError) as exc:
        FILTERS["nvidia_gpus"](text)
    assert fragment in str(exc.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("fd00::1", True),
        ("0.0.0.0", True),
        ("999.1.1.1", False),
        ("10.0.0.0/8", False),
        ("localhost", False),
        ("", False),
        (None, False),
        (2130706433, False),
    ],
)
def test_is_ip(value: object, expected: bool) -> None:
    assert FILTERS["is_ip"](value) is expected


def test_parse_size_filter() -> None:
    assert FILTERS["parse_size"]("10 GB") == 10_000_000_000
    assert FILTERS["parse_size"]("512 MiB") == 512 * 1024**2
    with pytest.raises(AnsibleFilterError, match="lots"):
        FILTERS["parse_size"]("lots")


@pytest.mark.parametrize(("value", "text"), [(0, "0 B"), (79_500_000_000, "79.5 GB"), ("2098420", "2.1 MB"), (74 * 1024**3, "79.5 GB")])
def test_format_size_prints_the_collections_one_convention(value: object, text: str) -> None:
    """Decimal units as every module prints them: 74 GiB is 79.5 GB, never "74.0 GB"."""
    assert FilterModule().filters()["format_size"](value) == text


@pytest.mark.parametrize("value", ["lots", None, -1])
def test_format_size_refuses_what_is_not_a_byte_count(value: object) -> None:
    with pytest.raises(AnsibleFilterError):
        FilterModule().filters()["format_size"](value)
