"""``vnsearch serve``: run the web app under gunicorn with web/gunicorn.conf.py.

The command lives here and is registered by the ``vnsearch`` group in indexer/cli.py.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import click

import search

GUNICORN_CONFIG = Path(__file__).with_name("gunicorn.conf.py")
EXIT_CANNOT_START = 2
EXIT_STATUS_HELP = f"""\b
Exit status:
  0   stopped (Ctrl-C or SIGTERM)
  1   gunicorn failed while serving (its log says why)
  {EXIT_CANNOT_START}   usage error, or cannot start: no index in the directory, an unusable index,
      or the address is in use
"""


def bind_address(host: str, port: int) -> str:
    """host:port, with IPv6 hosts in brackets as gunicorn wants them."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@click.command(epilog=EXIT_STATUS_HELP)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".vnsearch/index"),
    envvar="VNSEARCH_INDEX",
    show_default=True,
    show_envvar=True,
    help="Index directory.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Worker processes  [default: number of CPU cores]",
)
@click.option(
    "--analytics/--no-analytics",
    default=None,
    help="Record searches for `vnsearch report` (sets VNSEARCH_ANALYTICS)  [default: on]",
)
@click.option(
    "--synonyms", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Your synonyms file."
)
def serve(
    index_dir: Path, host: str, port: int, workers: int | None, analytics: bool | None, synonyms: Path | None
) -> None:
    """Serve the search page and the JSON API with gunicorn.

    Replaces this process with gunicorn, so signals (Ctrl-C, SIGTERM for a graceful stop,
    SIGHUP to reload) go straight to it.
    """
    _check_index(index_dir)
    _check_address(host, port)
    os.environ["VNSEARCH_INDEX"] = str(index_dir.resolve())
    os.environ["VNSEARCH_BIND"] = bind_address(host, port)
    if workers is not None:
        os.environ["VNSEARCH_WORKERS"] = str(workers)
    if analytics is not None:
        os.environ["VNSEARCH_ANALYTICS"] = "1" if analytics else "0"
    if synonyms is not None:  # read by every worker's search.Index, again whenever it changes
        os.environ["VNSEARCH_SYNONYMS"] = str(synonyms.resolve())
    argv = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG)]
    click.echo(f"vnsearch: serving {index_dir} on http://{bind_address(host, port)}/", err=True)
    os.execv(sys.executable, argv)


def _cannot_start(message: str) -> None:
    click.echo(f"vnsearch: cannot serve: {message}", err=True)
    sys.exit(EXIT_CANNOT_START)


def _check_index(index_dir: Path) -> None:
    """An index that answers, before gunicorn starts (it would start and fail every request)."""
    try:
        generation = search.Index(index_dir).generation
    except search.SearchError as exc:
        _cannot_start(str(exc))
    if generation is None:
        _cannot_start(
            f"no index in {index_dir}: build one with 'vnsearch reindex --index {index_dir} SOURCE...'"
        )


def _check_address(host: str, port: int) -> None:
    """The address is free, as gunicorn will bind it (SO_REUSEADDR): gunicorn itself would log
    "serving" first, retry for five seconds and die with "Connection in use"."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        _cannot_start(f"unknown host {host!r} ({exc.strerror})")
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            _cannot_start(
                f"{bind_address(host, port)} is not available ({exc.strerror}); choose another --port"
            )
