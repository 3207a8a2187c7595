"""The ``vnsearch`` command line: build, update, search and inspect an index; serve it (web/)."""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NoReturn

import click

import search
from indexer.article import MAX_BODY_BYTES, MAX_CHARS, OLDEST_YEAR
from indexer.dates import DateError, parse_date
from indexer.encodings import ENCODINGS, UTF8
from indexer.follow.settings import Settings as FollowSettings
from indexer.ingest import Scan, failed_analysis, scan, winners
from indexer.progress import progress
from indexer.records import Rejection
from indexer.sources import READERS, SourceError, SourceFile, detect_encodings, find_files
from indexer.sources.lines import MAX_LINE_BYTES, MAX_PAGE_BYTES

DEFAULT_INDEX = Path(".vnsearch/index")
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REJECTED = 3
EXIT_STRICT = 4
EXIT_LOCKED = 75  # EX_TEMPFAIL: try again when the other writer is done
# A reindex may not make current a generation with fewer than this share of the current one's
# articles (a wrong or half-copied source directory) unless --allow-shrink says so.
MIN_SHARE = 0.5


def exit_status_help(*statuses: tuple[int, str]) -> str:
    """The "Exit status" table of one command's --help: its own statuses only."""
    lines = [f"  {status:<3} {meaning}" for status, meaning in statuses]
    return "\b\nExit status:\n" + "\n".join(lines) + "\n"


_LOCKED = (EXIT_LOCKED, "another process is writing the index (its lock file is named)")
_USAGE = (EXIT_USAGE, "usage error")
EXIT_STATUS_HELP = exit_status_help(
    (0, "done"),
    (EXIT_ERROR, "error (the command's --help says which)"),
    (EXIT_USAGE, "usage error, a query the search core rejects, or serve cannot start"),
    (EXIT_REJECTED, "reindex, add: some records were rejected; delete: some ids were not found"),
    (EXIT_STRICT, "--strict and some records were rejected: nothing was changed"),
    _LOCKED,
)
WRITE_STATUS_HELP = {
    "reindex": exit_status_help(
        (0, "done; every record was indexed"),
        (
            EXIT_ERROR,
            "unusable index, interrupted, an indexing worker died, or the new generation\n"
            "      would shrink or empty the index (see --allow-shrink, --allow-empty)",
        ),
        _USAGE,
        (EXIT_REJECTED, "some records were rejected (FILE:LINE: reason), the rest were indexed"),
        (EXIT_STRICT, "--strict and some records were rejected: nothing was changed"),
        _LOCKED,
    ),
    "add": exit_status_help(
        (0, "done; every record was indexed"),
        (EXIT_ERROR, "unusable index, interrupted, or an indexing worker died"),
        _USAGE,
        (EXIT_REJECTED, "some records were rejected (FILE:LINE: reason), the rest were indexed"),
        (EXIT_STRICT, "--strict and some records were rejected: nothing was changed"),
        _LOCKED,
    ),
    "delete": exit_status_help(
        (0, "every id was deleted"),
        (EXIT_ERROR, "no index yet, or an unusable one"),
        _USAGE,
        (EXIT_REJECTED, "some ids were not in the index (the others were deleted)"),
        _LOCKED,
    ),
    "search": exit_status_help(
        (0, "searched (with or without hits)"),
        (EXIT_ERROR, "no index yet, or an unusable one"),
        (EXIT_USAGE, "usage error, or a query the search core rejects"),
    ),
    "stats": exit_status_help((0, "done"), (EXIT_ERROR, "unusable index"), _USAGE),
    "activate": exit_status_help(
        (0, "the copied generation is current"),
        (EXIT_ERROR, "refused: a partial, still-copying or corrupt copy (the current one keeps serving)"),
        _USAGE,
        _LOCKED,
    ),
    "follow": exit_status_help(
        (0, "stopped (SIGTERM, Ctrl-C) or, with --once, done"),
        (EXIT_ERROR, "an unusable index or an error of the command itself"),
        _USAGE,
    ),
    "report": exit_status_help((0, "reported"), (EXIT_ERROR, "no search log yet"), _USAGE),
}
_MARK = re.compile(r"<mark[^>]*>(.*?)</mark>", re.S)


class VnsearchGroup(click.Group):
    """Loads ``serve`` only when asked for, and turns index errors into messages, not tracebacks."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), "serve"])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "serve":
            from web.cli import serve  # the web stack is not needed to index or search

            return serve
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except search.IndexLockedError as exc:
            _fail(str(exc), EXIT_LOCKED)
        except search.QueryError as exc:
            _fail(str(exc), EXIT_USAGE)
        except search.SearchError as exc:
            _fail(str(exc), EXIT_ERROR)
        except BrokenPipeError:  # the reader of our output left (| head): stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_ERROR)
        except OSError as exc:  # e.g. the disk filled up while writing: a message, not a traceback
            where = f": {exc.filename}" if exc.filename else ""
            _fail(f"cannot complete the command: {exc.strerror or exc}{where}", EXIT_ERROR)


def _fail(message: str, status: int) -> NoReturn:
    click.echo(f"vnsearch: {message}", err=True)
    sys.exit(status)


@click.group(cls=VnsearchGroup, epilog=EXIT_STATUS_HELP)
@click.version_option(package_name="vnsearch")
def main() -> None:
    """Full-text search for Vietnamese news.

    Build an index with `vnsearch reindex`, keep it current with `add` and `delete`, query it
    with `search`, and serve the web page and JSON API with `serve`.
    """


index_option = click.option(
    "--index",
    "index_dir",
    envvar="VNSEARCH_INDEX",
    show_envvar=True,
    default=DEFAULT_INDEX,
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Index directory.",
)
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(READERS)),
    help="Read every source as this format instead of choosing by extension.",
)
encoding_option = click.option(
    "--encoding",
    type=click.Choice(ENCODINGS),
    help="Read every source as this encoding instead of detecting it (see 'Cách gõ nào cũng tìm được').",
)
synonyms_option = click.option(
    "--synonyms",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="VNSEARCH_SYNONYMS",
    show_envvar=True,
    help="Your synonyms file, read with the built-in set (format: README, 'Cách gõ nào cũng tìm được').",
)
strict_option = click.option(
    "--strict",
    is_flag=True,
    help=f"If any record is rejected, change nothing and exit with status {EXIT_STRICT}.",
)
allow_shrink_option = click.option(
    "--allow-shrink",
    is_flag=True,
    help=f"Let the new generation hold fewer than {MIN_SHARE:.0%} of the current one's articles.",
)
allow_empty_option = click.option(
    "--allow-empty", is_flag=True, help="Let an empty generation replace the current one."
)
sources_argument = click.argument(
    "sources", metavar="SOURCE...", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
SOURCES_HELP = """
SOURCE is a file or a directory (read recursively). Formats by extension, each optionally
gzipped (.gz): .jsonl (one article object per line), .csv (header row naming the fields),
.html/.htm (article pages), .txt (scraped portal pages: headline, "Ngày cập nhật" line, body,
"Nguồn:"). Fields: id, title, summary, body, date, category, source, url, image (a thumbnail
URL); without an id, one is derived from the url, else from the content; without a title, one
is shown from the lead's first sentence (marked as derived, not searched as a title). A later
record with the same id replaces an earlier one. Rejected records are reported as
FILE:LINE: reason; the rest are indexed.
Limits (longer is rejected): {limits}, body {body:,} bytes; a line {line:,} bytes, an
.html/.txt page {page:,} bytes; dates from {oldest} to a year after today; no '/' in an id.
""".format(
    limits=", ".join(f"{name} {limit:,}" for name, limit in MAX_CHARS.items()) + " characters",
    body=MAX_BODY_BYTES,
    line=MAX_LINE_BYTES,
    page=MAX_PAGE_BYTES,
    oldest=OLDEST_YEAR,
)


@main.command(
    epilog=SOURCES_HELP + "\n" + WRITE_STATUS_HELP["reindex"],
    short_help="Rebuild the index from SOURCE... as a new generation.",
)
@index_option
@format_option
@encoding_option
@strict_option
@allow_shrink_option
@allow_empty_option
@click.option(
    "--scheduler",
    metavar="tcp://HOST:PORT",
    help="Segment the articles on this Dask cluster (dask.distributed, vnsearch installed on its "
    "workers) instead of this machine's cores; the generation is written and switched here.",
)
@sources_argument
def reindex(
    index_dir: Path,
    fmt: str | None,
    encoding: str | None,
    strict: bool,
    allow_shrink: bool,
    allow_empty: bool,
    scheduler: str | None,
    sources: tuple[Path, ...],
) -> None:
    """Rebuild the index from SOURCE... as a new generation.

    The new generation becomes current only once complete: searches keep using the old one
    meanwhile, and an interrupted run leaves it in place. It is refused (exit 1, the current
    generation stays) when it would hold no article, or fewer than half of the current
    generation's, unless --allow-empty or --allow-shrink says so.
    """
    files = _source_files(sources, fmt, encoding)
    ix = search.Index(index_dir)
    started = time.monotonic()
    share = 0.0 if allow_shrink else MIN_SHARE
    with ix.new_generation(min_share=share, allow_empty=allow_empty, scheduler=scheduler) as gen:
        plan = _scan(files)
        if strict and plan.rejected:
            gen.abort()
            _strict_abort(plan, f"generation {ix.generation} stays current")
        gen.check_size(plan.unique)  # before hours of indexing, not after
        indexed = _write(gen.add_many, plan)
    _summary(plan, indexed, time.monotonic() - started)
    click.echo(f"generation {ix.generation} is current: {ix.doc_count():,} articles")
    _exit_status(plan)


@main.command(
    epilog=SOURCES_HELP + "\n" + WRITE_STATUS_HELP["add"],
    short_help="Add or replace articles (by id) in the index.",
)
@index_option
@format_option
@encoding_option
@strict_option
@sources_argument
def add(
    index_dir: Path, fmt: str | None, encoding: str | None, strict: bool, sources: tuple[Path, ...]
) -> None:
    """Add or replace (by id) the articles of SOURCE... in the current generation."""
    files = _source_files(sources, fmt, encoding)
    ix = search.Index(index_dir)
    started = time.monotonic()
    with ix.updating() as writer:
        plan = _scan(files)
        if strict and plan.rejected:
            _strict_abort(plan, "the index was not changed")
        indexed = _write(writer.upsert_many, plan)
    _summary(plan, indexed, time.monotonic() - started)
    _exit_status(plan)


@main.command(
    epilog=WRITE_STATUS_HELP["activate"], short_help="Verify a copied generation and make it current."
)
@index_option
@click.argument("generation")
def activate(index_dir: Path, generation: str) -> None:
    """Verify a generation copied into the index and make it current (on a replica).

    GENERATION is the name of a directory copied from the writer's index into INDEX/generations/
    (e.g. g000007, copied with rsync, scp or any file copy). Every file is checked against the
    generation's MANIFEST.json (names, sizes, SHA-256) and one search is run on it before it is
    switched in; a partial, still-copying or corrupt copy is refused (exit 1) and the current
    generation keeps serving. The generation it replaces stays, for a rollback.
    """
    name = Path(generation).name if "/" in generation else generation
    info = search.Index(index_dir).activate(name)
    size = sum(entry["size"] for entry in info["files"].values())
    click.echo(
        f"generation {name} is current: {info['articles']:,} articles, "
        f"{len(info['files'])} files ({size / 1e6:.1f} MB) verified"
    )


@main.command(epilog=WRITE_STATUS_HELP["delete"], short_help="Delete articles by id.")
@index_option
@click.argument("ids", metavar="ID...", nargs=-1, required=True)
def delete(index_dir: Path, ids: tuple[str, ...]) -> None:
    """Delete articles by id from the current generation."""
    with _existing_index(index_dir).updating() as writer:
        missing = [article_id for article_id in ids if writer.delete(article_id) == 0]
    for article_id in missing:
        click.echo(f"not found: {article_id}", err=True)
    click.echo(f"deleted {len(ids) - len(missing)}, not found {len(missing)}")
    if missing:
        sys.exit(EXIT_REJECTED)


def _existing_index(index_dir: Path) -> search.Index:
    ix = search.Index(index_dir)
    if ix.generation is None:
        _fail(f"no index in {index_dir}: build one with 'vnsearch reindex'", EXIT_ERROR)
    return ix


def _source_files(sources: Iterable[Path], fmt: str | None, encoding: str | None) -> list[SourceFile]:
    try:
        files, skipped = find_files(sources, fmt)
    except SourceError as exc:
        raise click.BadParameter(str(exc), param_hint="SOURCE") from None
    for path in skipped:
        click.echo(f"{path}: skipped (not a known format; use --format to read it)", err=True)
    return detect_encodings(files, encoding)


def _scan(files: list[SourceFile]) -> Scan:
    click.echo(f"reading {len(files)} file(s)", err=True)
    _report_encodings(files)
    return scan(files, report=_report)


def _report_encodings(files: list[SourceFile]) -> None:
    """Each file not read as UTF-8 with how its encoding was decided, then a count per encoding."""
    for source in files:
        if source.detected and source.detected != UTF8:
            click.echo(f"{source.path}: encoding {source.detected}", err=True)
    counts = Counter(f.encoding for f in files if not f.problem)
    if counts:
        click.echo(
            "encodings: " + ", ".join(f"{name} {n:,} file(s)" for name, n in counts.most_common()), err=True
        )


def _report(rejection: Rejection) -> None:
    click.echo(str(rejection), err=True)


def _write(add_many: Callable[..., int], plan: Scan) -> int:
    with progress(plan.unique) as update:
        return add_many(winners(plan), progress=update, on_error=failed_analysis(plan, _report))


def _strict_abort(plan: Scan, outcome: str) -> NoReturn:
    _fail(f"--strict: {plan.rejected.total():,} record(s) rejected, nothing indexed; {outcome}", EXIT_STRICT)


def _summary(plan: Scan, indexed: int, seconds: float) -> None:
    rejected = plan.rejected.total()
    click.echo(
        f"read {plan.read:,}: indexed {indexed:,}, rejected {rejected:,}, "
        f"duplicates {plan.duplicates:,} in {seconds:.1f} s ({indexed / max(seconds, 1e-9):,.0f} articles/s)"
    )
    if rejected:
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in plan.rejected.most_common())
        click.echo(f"rejected by reason: {reasons}")
    for where, n in sorted(plan.repaired.items()):
        click.echo(f"repaired {n:,} record(s) of {where}")


def _exit_status(plan: Scan) -> None:
    if plan.rejected:
        sys.exit(EXIT_REJECTED)


def _cli_date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return _as_date(parse_date(value))
    except DateError as exc:
        raise click.BadParameter(str(exc)) from None


def _as_date(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


@main.command(name="search", epilog=WRITE_STATUS_HELP["search"], short_help="Search the index.")
@index_option
@click.argument("query")
@click.option(
    "--from", "date_from", callback=_cli_date, metavar="DATE", help="Oldest date (2023-11-13 or 13/11/2023)."
)
@click.option("--to", "date_to", callback=_cli_date, metavar="DATE", help="Newest date, inclusive.")
@click.option("--category", help="Only this category (exact name, e.g. 'Thời sự').")
@click.option(
    "--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True
)
@click.option(
    "--page",
    type=int,
    default=1,
    show_default=True,
    help=f"Page number (1-{search.limits.MAX_PAGE}; page × size at most {search.limits.MAX_DEPTH}).",
)
@click.option(
    "--size",
    type=int,
    default=10,
    show_default=True,
    help=f"Hits per page (1-{search.limits.MAX_PER_PAGE}).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@synonyms_option
def search_command(
    index_dir: Path,
    query: str,
    date_from: dt.date | None,
    date_to: dt.date | None,
    category: str | None,
    sort: str,
    page: int,
    size: int,
    as_json: bool,
    synonyms: Path | None,
) -> None:
    """Search the index: ranked hits with date, category, id, url and a snippet.

    QUERY may be written with or without accents (at most {chars} characters; words after the
    first {words} are ignored); "" with --from/--to/--category lists the newest articles.

    \b
    Query syntax:
      khoa hoc            every word, in any order (a word's syllables together)
      "giá vàng"          this phrase, its words side by side and in order
      bong da -futsal     a word after - excludes the articles holding it
      title:"Hà Nội"      only in the title (title:word for one word)
      bão OR lũ           either side; each side holds all its words
    Words typed with marks match only with them ("bão" never finds "báo"); without
    marks they match any marks. No wildcards or fuzzy operators; when no article holds
    every word, the least narrowing words are left out and the output says so.
    """
    ix = _existing_index(index_dir)
    try:
        ix.synonyms = search.Synonyms(synonyms)
    except search.SynonymsError as exc:
        raise click.BadParameter(str(exc), param_hint="--synonyms") from None
    res = ix.search(
        query, date_from=date_from, date_to=date_to, category=category, sort=sort, page=page, per_page=size
    )
    if as_json:
        click.echo(json.dumps(res.to_dict(), ensure_ascii=False, indent=2))
        return
    bold = sys.stdout.isatty()
    pages = max(res.pages, 1)
    click.echo(
        f'{res.total:,} result(s) for "{res.query}" (page {res.page} of {pages}, {res.took_ms:.0f} ms)'
    )
    if res.searched:
        click.echo(f'searched as "{res.searched}"')
    if res.suggestion:
        click.echo(f'did you mean "{res.suggestion}"?')
    for rank, hit in enumerate(res.hits, start=(res.page - 1) * res.per_page + 1):
        click.echo()
        click.echo(f"{rank}. {_plain(hit.title_html, bold) or '(no title)'}")
        details = [_vn_date(hit.date), hit.category, hit.source, f"id {hit.id}"]
        click.echo("   " + " · ".join(d for d in details if d))
        if hit.url:
            click.echo(f"   {hit.url}")
        click.echo(f"   {_plain(hit.snippet_html, bold)}")


# The limits in the help are the core's own (search.limits), so the help cannot drift from them.
search_command.help = (search_command.help or "").format(
    chars=search.limits.MAX_QUERY_CHARS, words=search.limits.MAX_WORDS
)


def _plain(marked_html: str, bold: bool) -> str:
    """Highlighted HTML as terminal text: matches in bold on a terminal, plain otherwise."""
    text = _MARK.sub(lambda m: click.style(m[1], bold=True) if bold else m[1], marked_html)
    return " ".join(html.unescape(text).split())


def _vn_date(value: dt.date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else ""


@main.command(epilog=WRITE_STATUS_HELP["stats"], short_help="Show what the index holds.")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
def stats(index_dir: Path, as_json: bool) -> None:
    """Generation, article count, date range, categories and size on disk."""
    info = search.Index(index_dir).stats()
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(f"index       {index_dir}")
    click.echo(f"generation  {info['generation'] or '(none: never built)'}")
    click.echo(f"articles    {info['articles']:,}")
    click.echo(f"dates       {_vn_date(info['date_min']) or '-'} – {_vn_date(info['date_max']) or '-'}")
    click.echo(f"size        {info['size_bytes'] / 1e6:.1f} MB")
    click.echo(f"categories  {len(info['categories'])}")
    for name, count in sorted(info["categories"].items(), key=lambda item: (-item[1], item[0])):
        click.echo(f"  {count:>8,}  {name}")


FOLLOW_HELP = """
SOURCE is the URL of an RSS/Atom feed, a sitemap, a news sitemap or a sitemap index (the kind is
read from the document). Sources may also be listed in a TOML config file (--config), with any
setting: a [follow] table such as

\b
    [follow]
    sources = ["https://portal.example/rss/tin-moi.rss",
               "https://portal.example/sitemap_index.xml"]
    feed_interval = 20.0
    host_interval = 1.0

Settings and their defaults: {settings}.

State (pages seen, their lastmod, ETag and Last-Modified, last errors) is kept in
follow.sqlite3 in the index directory, counters for Prometheus in follow.prom beside it.
SIGTERM or Ctrl-C stops after the page in hand: the batch is committed, the state saved.
"""


@main.command(epilog=WRITE_STATUS_HELP["follow"], short_help="Keep the index fresh from feeds and sitemaps.")
@index_option
@click.argument("sources", metavar="SOURCE...", nargs=-1)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    envvar="VNSEARCH_FOLLOW_CONFIG",
    show_envvar=True,
    help="TOML file with sources and settings (options given here win).",
)
@click.option("--feed-interval", type=click.FloatRange(min=0.1), help="Seconds between polls of a feed.")
@click.option(
    "--sitemap-interval", type=click.FloatRange(min=0.1), help="Seconds between polls of a sitemap."
)
@click.option(
    "--host-interval", type=click.FloatRange(min=0.0), help="Seconds between two requests to one host."
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Articles per commit at most.")
@click.option("--batch-seconds", type=click.FloatRange(min=0.0), help="Commit a batch at most this late.")
@click.option("--once", is_flag=True, help="Poll every source once, fetch what is due, commit and exit.")
@click.option("-v", "--verbose", is_flag=True, help="Log every poll and commit, not only problems.")
def follow(
    index_dir: Path,
    sources: tuple[str, ...],
    config_path: Path | None,
    once: bool,
    verbose: bool,
    **overrides: float | int | None,
) -> None:
    """Keep the index fresh: poll feeds and sitemaps, fetch new and changed articles, index them.

    Runs until stopped (SIGTERM, Ctrl-C), politely: robots.txt is obeyed, one request at a time
    per host, pages are fetched again only when their source lists a newer date and then with
    conditional GET. A source or page that fails (malformed XML, 404, too slow, a redirect loop)
    is logged with its URL and skipped; nothing already indexed is removed.
    """
    import logging
    import signal

    from indexer.follow import settings as follow_settings
    from indexer.follow.runner import Follower  # feedparser, urllib3: only for this command

    try:
        base = follow_settings.load(config_path) if config_path else FollowSettings()
    except follow_settings.ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--config") from None
    settings = base.merged(**overrides)
    if sources:
        settings = settings.merged(sources=tuple(dict.fromkeys((*settings.sources, *sources))))
    bad = [url for url in settings.sources if not re.match(r"https?://[^/\s]+", url)]
    if bad:
        raise click.BadParameter(f"not an http(s) URL: {bad[0]}", param_hint="SOURCE")
    if not settings.sources:
        raise click.UsageError("name at least one feed or sitemap URL (or a --config file listing them)")
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    follower = Follower(index_dir, settings)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: follower.stop())
    click.echo(f"vnsearch: following {len(settings.sources)} source(s) into {index_dir}", err=True)
    follower.run(once=once)


follow.epilog = FOLLOW_HELP.format(  # the defaults, read from the one place they are declared
    settings=", ".join(
        f"{name} {value:,}"
        for name, value in vars(FollowSettings()).items()
        if isinstance(value, int | float)
    )
)


@main.command(
    epilog=WRITE_STATUS_HELP["report"], short_help="What readers searched for, and what they did not find."
)
@index_option
@click.option("--days", type=click.IntRange(min=1), default=7, show_default=True, help="Days to look back.")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True, help="Queries per list.")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="VNSEARCH_ANALYTICS_DB",
    show_envvar=True,
    help="Search log  [default: analytics.sqlite3 in the index directory]",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def report(index_dir: Path, days: int, top: int, db_path: Path | None, as_json: bool) -> None:
    """What readers searched for: top queries, queries that found nothing, the share typed
    without diacritics and the share answered with words left out (relaxed).

    Counts first pages of searches with words, from the page and the API (`vnsearch serve`
    records them unless VNSEARCH_ANALYTICS=0).
    """
    path = db_path or index_dir / search.analytics.FILE_NAME
    if not path.exists():
        _fail(f"no search log at {path}: `vnsearch serve` writes it as readers search", EXIT_ERROR)
    info = search.analytics.report(path, days=days, top=top)
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    searches = info["searches"]
    click.echo(f"searches   {searches:,} in the last {days} day(s), since {info['since']}")
    click.echo(f"requests   {info['requests']:,} (later pages and searches without words included)")
    shares = {"no diacritics": "share_unaccented", "relaxed": "share_relaxed", "no results": "share_zero"}
    for label, key in shares.items():
        click.echo(f"{label:<14} {info[key]:.1%}")
    for title, key in (("Top queries", "top"), ("Queries that found nothing", "zero_results")):
        click.echo(f"\n{title}:")
        rows = info[key]
        if not rows:
            click.echo("  (none)")
        for row in rows:
            extra = f"  relaxed {row['relaxed']:,}" if key == "top" and row["relaxed"] else ""
            zero = f"  no results {row['zero']:,}" if key == "top" and row["zero"] else ""
            click.echo(f"  {row['count']:>7,}  {row['query']}{extra}{zero}")
