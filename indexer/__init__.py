"""vnsearch indexer: read news sources, validate articles and feed them to ``search``; the CLI.

``sources`` reads JSONL, CSV, HTML and scraped portal text (optionally gzipped) into records,
``article`` validates them, ``ingest`` streams the winning record per id to the core, and
``cli`` is the ``vnsearch`` command. Only the public ``search`` API is used.
"""
