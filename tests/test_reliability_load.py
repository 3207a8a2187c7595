"""Smoke test of benchmarks/load_with_change.py in its --quick mode (shortened): real gunicorn,
client threads, and an add, a full reindex and a delete while they search.

What is pinned down: no request fails while generations swap and commits land, no request sent
after a change still sees the old state (deleted articles gone, new ones found), and every change
was actually observed by the clients.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "load_with_change.py"


def test_quick_load_with_change_has_no_failures_and_no_stale_results(tmp_path):
    out, figures = tmp_path / "load.md", tmp_path / "load.json"
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--quick",
            "--duration",
            "4",
            "--out",
            str(out),
            "--json",
            str(figures),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads(figures.read_text())
    assert data["failed"] == 0 and data["errors"] == []
    assert data["served"] > 100 and data["served_during_reindex"] > 0
    assert [c["stale_after_change"] for c in data["changes"]] == [0, 0, 0]
    assert all(c["old_state_before"] and c["responses_after"] for c in data["changes"])
    table = out.read_text()
    assert table.startswith("# Load with change") and "--quick --duration 4" in table
    assert "| failed requests (non-200 or connection error) | 0 |" in table
