"""The write x fault x request-position matrix (``bench/write_faults.py``) as a test:
nothing lost or duplicated, and no error or success that misstates what changed."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from write_faults import KINDS, run_matrix


def test_no_write_loses_duplicates_or_misreports_under_any_fault() -> None:
    _, totals, examples = run_matrix(list(KINDS))
    assert totals["trials"] > 150
    assert (totals["lost"], totals["duplicated"], totals["lied"]) == (0, 0, 0), examples
    # What is left behind is left only where GitHub stopped answering or answered with
    # something not its own, and each error names it (else it counts as a lie above).
    assert all("outage" in e or "non_json" in e for e in examples), examples
