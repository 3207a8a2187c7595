"""gunicorn settings for vnsearch: ``gunicorn -c web/gunicorn.conf.py "web:create_app()"``.

The index comes from VNSEARCH_INDEX (read by create_app); the rest from VNSEARCH_BIND and
VNSEARCH_WORKERS, which ``vnsearch serve`` sets from its options.
"""

import os

wsgi_app = "web:create_app()"
bind = [os.environ.get("VNSEARCH_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("VNSEARCH_WORKERS") or os.cpu_count() or 1)
# Load the app (and with it pyvi's model) once in the master; workers share it by fork.
# Each worker still opens its own search.Index on first request (web.index.IndexHolder).
preload_app = True
accesslog = "-"
errorlog = "-"
timeout = 30
graceful_timeout = 20
proc_name = "vnsearch"
# No runtime control socket (gunicorn ≥ 25): it would be shared by every server of this user.
control_socket_disable = True
