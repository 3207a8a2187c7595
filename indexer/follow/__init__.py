"""``vnsearch follow``: keep the index fresh from a portal's feeds and sitemaps.

``settings`` declares every default and bound, ``fetch`` is the polite HTTP client (robots.txt,
per-host turns, conditional GET, retries), ``listing`` reads feeds and sitemaps, ``pages`` turns a
fetched page into an article with the file readers, ``state`` remembers everything in SQLite,
``runner`` is the loop and ``metrics`` writes its counters for Prometheus.
"""
