"""The OpenAPI document against the live server: schemathesis (every check, every phase) finds no
request where the API and its description disagree.

Bounded to a few examples per operation so that it stays a smoke run in the default suite; run it
longer by hand with ``st run URL/api/openapi.json --checks all``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from web_fixtures import live_server, reader_index

from web import create_app

ST = Path(sys.executable).with_name("st")
MAX_EXAMPLES = 8
SEED = 20261203  # a fixed seed: a failure found once is found again


@pytest.mark.skipif(not ST.exists() and not shutil.which("st"), reason="schemathesis is not installed")
def test_schemathesis_finds_no_mismatch_against_the_live_server(tmp_path_factory, tmp_path):
    app = create_app({"INDEX": str(reader_index(tmp_path_factory))})
    with live_server(app) as base:
        done = subprocess.run(
            [
                str(ST if ST.exists() else shutil.which("st")),
                "run",
                f"{base}/api/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                str(SEED),
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=tmp_path,  # schemathesis keeps a cache of what it found in .schemathesis/ here
        )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "No issues found" in done.stdout
