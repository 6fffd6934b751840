"""The parity gates' two parts: the README's promised floors, which no measurement moves, and the measured
ratchet that `scripts/tt_parity_gates.py --write` keeps, refusing to loosen it unless told to.

The script is fed measured numbers directly (`update`): no model runs here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.tt_parity import Agreement
from scripts.tt_parity_gates import TESTS, read_gates, update

from .compare import BLOCK_FLOOR, WAVEFORM_FLOOR, Gate, assert_all_admitted

README = Path(__file__).resolve().parents[1] / "README.md"
NAME = "TINY_SHIPPED_GATES"
FILE = f'''"""A test module's gates."""

{NAME} = {{  # tiny, one scenario (scripts/tt_parity_gates.py): measured PCC / max abs error
    "vocoder": Gate(0.9996, 0.04),  # 0.9998000000 / 0.02
    "waveform": Gate(0.999, 0.08, WAVEFORM_FLOOR),  # 0.9995000000 / 0.04
}}
OTHER = 1
'''


@pytest.fixture
def gates_file(tmp_path: Path) -> Path:
    path = tmp_path / "test_module.py"
    path.write_text(FILE)
    return path


def run(path: Path, vocoder: Agreement, waveform: Agreement, *, loosen: bool = False) -> list[str]:
    return update({path: ({"vocoder": vocoder, "waveform": waveform}, set())}, NAME, "tiny", loosen=loosen, dry=False)


def test_the_floors_are_the_readmes_promise() -> None:
    words = " ".join(README.read_text().split())
    assert f"PCC >= {BLOCK_FLOOR} per block and >= {WAVEFORM_FLOOR} per waveform" in words


def test_a_gate_below_its_floor_cannot_be_made() -> None:
    with pytest.raises(ValueError, match=r"below its floor 0\.999$"):
        Gate(0.998, 1.0)
    with pytest.raises(ValueError, match=r"below its floor 0\.99$"):
        Gate(0.98, 1.0, WAVEFORM_FLOOR)
    with pytest.raises(ValueError, match="below its floor"):
        Gate(float("nan"), 1.0)


def test_a_block_may_not_use_the_waveforms_floor() -> None:
    results = {"vocoder": Agreement(0.995, 0.01)}
    with pytest.raises(AssertionError, match="below the floor their name promises"):
        assert_all_admitted(results, {"vocoder": Gate(0.99, 1.0, WAVEFORM_FLOOR)}, "vocoder")


def test_a_tighter_measurement_is_written(gates_file: Path) -> None:
    assert run(gates_file, Agreement(0.9999, 0.01), Agreement(0.9998, 0.03)) == []
    assert read_gates(gates_file, NAME) == {
        "vocoder": Gate(0.9998, 0.02),
        "waveform": Gate(0.9996, 0.06, WAVEFORM_FLOOR),
    }
    assert gates_file.read_text().endswith("}\nOTHER = 1\n")


def test_a_looser_measurement_is_refused_one_line_per_gate_unless_loosen(gates_file: Path) -> None:
    refusals = run(gates_file, Agreement(0.9997, 0.01), Agreement(0.9995, 0.05))
    assert len(refusals) == 2 and all("looser" in line and "--loosen" in line for line in refusals), refusals
    assert refusals[0].startswith("test_module.py TINY_SHIPPED_GATES looser: vocoder: PCC >= 0.9996")  # the PCC
    assert refusals[1].startswith("test_module.py TINY_SHIPPED_GATES looser: waveform:")  # the max abs error
    assert gates_file.read_text() == FILE  # nothing written

    assert run(gates_file, Agreement(0.9997, 0.01), Agreement(0.9995, 0.05), loosen=True) == []
    assert read_gates(gates_file, NAME)["waveform"] == Gate(0.999, 0.1, WAVEFORM_FLOOR)


def test_a_gate_is_never_written_below_its_floor(gates_file: Path) -> None:
    """The rule's gate under the floor is raised to the floor; a measurement under it is refused, also with
    --loosen, and nothing is written."""
    assert run(gates_file, Agreement(0.9996, 0.02), Agreement(0.996, 0.04), loosen=True) == []
    assert read_gates(gates_file, NAME) == {
        "vocoder": Gate(0.9992, 0.04),
        "waveform": Gate(0.992, 0.08, WAVEFORM_FLOOR),
    }
    written = gates_file.read_text()
    refusals = run(gates_file, Agreement(0.9985, 0.02), Agreement(0.994, 0.04), loosen=True)
    assert refusals == [
        "test_module.py TINY_SHIPPED_GATES vocoder: measured PCC 0.9985000000 is below the promised floor 0.999"
    ]
    assert gates_file.read_text() == written
    assert run(gates_file, Agreement(0.9996, 0.02), Agreement(0.994, 0.04), loosen=True) == []
    assert read_gates(gates_file, NAME)["waveform"] == Gate(WAVEFORM_FLOOR, 0.08, WAVEFORM_FLOOR)  # 2x: 0.988


@pytest.mark.parametrize("module", ["test_converter.py", "test_synthesizer.py"])
@pytest.mark.parametrize("name", ["TINY_SHIPPED_GATES", "FULL_SHIPPED_GATES"])
def test_the_script_reads_every_gate_of_the_test_files(module: str, name: str) -> None:
    """The ratchet compares with what the files hold: every block line must parse, the waveform with its
    own floor."""
    gates = read_gates(TESTS / module, name)
    source = (TESTS / module).read_text()
    block = source[source.index(f"{name} = {{") :]
    assert len(gates) == block[: block.index("\n}")].count(": Gate(") >= 7
    assert gates["waveform"].floor == WAVEFORM_FLOOR
    assert all(gate.floor == BLOCK_FLOOR for block, gate in gates.items() if block != "waveform")
