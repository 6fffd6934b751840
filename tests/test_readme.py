"""The README says what the code does: its derivable tables are re-derived here and compared.

After a change that moves these numbers, `python scripts/readme_tables.py placement --write` updates
the placement table; the exit-code table is edited by hand.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.exceptions import UsageError

from openvoice_tt.cli.errors import EXIT_INTERRUPTED, EXIT_TERMINATED
from openvoice_tt.errors import OpenVoiceError
from scripts.readme_tables import (
    PROGRAMS_HEADER,
    PROGRAMS_JSON,
    README,
    placement_checkpoints,
    placement_facts,
    placement_report,
    placement_table,
    programs_table,
    readme_placement,
    readme_programs,
    write_programs,
)

TEXT = README.read_text()


def _subclasses(cls: type) -> list[type]:
    return [cls] + [s for sub in cls.__subclasses__() for s in _subclasses(sub)]


def _readme_exit_codes() -> dict[int, str]:
    section = TEXT.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    return {int(code): meaning for code, meaning in re.findall(r"^\| (\d+) \| (.+) \|$", section, re.MULTILINE)}


def test_exit_code_table_lists_exactly_the_codes_the_cli_uses() -> None:
    stops = {EXIT_INTERRUPTED, EXIT_TERMINATED}
    used = {0, UsageError.exit_code, *stops} | {cls.exit_code for cls in _subclasses(OpenVoiceError)}
    documented = _readme_exit_codes()
    assert set(documented) == used, f"README documents {sorted(documented)}, the code uses {sorted(used)}"
    assert "usage" in documented[UsageError.exit_code] and "interrupted" in documented[EXIT_INTERRUPTED]


def test_every_error_kind_is_documented_under_its_own_code() -> None:
    documented = _readme_exit_codes()
    kinds = {
        "InputError": "bad input",
        "CheckpointError": "checkpoint",
        "OutputError": "output",
        "DeviceError": "device",
    }
    for cls in _subclasses(OpenVoiceError):
        if cls.__name__ in kinds:
            assert kinds[cls.__name__] in documented[cls.exit_code], (cls.__name__, documented[cls.exit_code])


def test_readme_tables_show_the_command_that_measures_them() -> None:
    """Each measured table has its command next to it (placement, precision, bench)."""
    for command, table in [
        ("OPENVOICE_TT_DEVICE=emulation openvoice-tt placement", "| stage | runs on | ttnn ops |"),
        ("python scripts/tt_precision_report.py DIR", "| converter block (2 s) |"),
        ("openvoice-tt bench --device cpu", "| configuration | synth RTF | clone RTF |"),
        ("python scripts/readme_tables.py programs --checkpoints /tmp/ck --against 936a09d --write", PROGRAMS_HEADER),
    ]:
        assert command in TEXT and table in TEXT
        assert 0 < TEXT.index(table) - TEXT.index(command) < 2500, f"{command!r} is not next to its table"


def test_mock_device_descriptors_ship_inside_the_package() -> None:
    from openvoice_tt.tt.device import MOCK_DESCRIPTORS, mock_descriptor

    package = Path(__import__("openvoice_tt").__file__).parent
    for arch in MOCK_DESCRIPTORS:
        assert mock_descriptor(arch).is_file() and package in mock_descriptor(arch).parents


@pytest.mark.slow
def test_placement_table_matches_the_code(full_checkpoints: Path, tmp_path: Path) -> None:
    """Op counts, transfers and FLOPs per stage as `placement` reports them now on full-size checkpoints
    (with a random full-size BERT, which runs on the device)."""
    report = placement_report(placement_checkpoints(full_checkpoints, tmp_path))
    table, facts = readme_placement(TEXT)
    expected = placement_table(report)
    differing = [f"README: {a}\n  code: {b}" for a, b in zip(table, expected, strict=False) if a != b]
    assert table == expected, "placement table is stale (scripts/readme_tables.py placement --write):\n" + "\n".join(
        differing or [f"{len(table)} vs {len(expected)} rows"]
    )
    assert facts == placement_facts(report)


def test_placement_write_puts_a_report_into_the_readme() -> None:
    """`readme_tables.py placement --write` replaces the table and the two quoted numbers, nothing else."""
    from scripts.readme_tables import PLACEMENT_LABELS, write_placement

    rows = [
        {"stage": stage, "runs_on": "device", "ttnn_ops": i + 1, "host_transfers": 0, "gflop_per_audio_second": i}
        for i, stage in enumerate(PLACEMENT_LABELS)
    ]
    transfers = {"uploads": ["a", "b"], "downloads": ["c"], "scalar_reads": []}
    report = {"rows": rows, "audio_seconds": 12.34, "transfers": transfers}
    written = write_placement(TEXT, report)
    assert readme_placement(written) == (placement_table(report), {"audio_seconds": "12.3", "host_transfers": "3"})
    assert len(written.splitlines()) == len(TEXT.splitlines())


def test_programs_table_is_its_measurement() -> None:
    """The device-programs table is rendered from tests/data/tt_programs.json, the file the command wrote."""
    report = json.loads(PROGRAMS_JSON.read_text())
    assert readme_programs(TEXT) == programs_table(report), (
        "programs table differs from tests/data/tt_programs.json (scripts/readme_tables.py programs --measured --write)"
    )
    assert report["revisions"]["before"] == "936a09d" and report["command"].startswith("python scripts/tt_programs.py")
    assert {"wormhole_n150", "blackhole_p150"} == set(report["results"]["after"])


def test_programs_write_replaces_only_the_table() -> None:
    cell = {"audio_seconds": 2.0, "programs": {"total": 10}, "host_seconds": {"total": 0.5}}
    results = {"after": {"wormhole_n150": {"results": {"synth": {"2.0": cell}}}}}
    report = {"revisions": {"after": "abc1234"}, "jobs": ["synth"], "seconds": [2.0], "results": results}
    written = write_programs(TEXT, report)
    assert (
        readme_programs(written)
        == programs_table(report)
        == [
            "| device | job | audio s | programs / audio s after (abc1234) | host s / audio s after (abc1234) |",
            "|---|---|---|---|---|",
            "| wormhole_n150 | synth | 2.00 | 5 | 0.250 |",
        ]
    )
    assert written.split("\n".join(programs_table(report))) == TEXT.split("\n".join(readme_programs(TEXT)))
