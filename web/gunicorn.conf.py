"""gunicorn settings for vnsearch: ``gunicorn -c web/gunicorn.conf.py "web:create_app()"``.

The index comes from VNSEARCH_INDEX (read by create_app); the rest from VNSEARCH_BIND and
VNSEARCH_WORKERS, which ``vnsearch serve`` sets from its options, and VNSEARCH_THREADS.
Production runs behind nginx (README); these settings still keep a few slow or half-open
connections from exhausting the workers when a client reaches gunicorn directly.
"""

import os
import secrets
import shutil
import tempfile

wsgi_app = "web:create_app()"
bind = [os.environ.get("VNSEARCH_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("VNSEARCH_WORKERS") or os.cpu_count() or 1)
# Threads per worker (web/worker.py): a connection takes a thread only once its request head has
# arrived, so threads are for requests in progress; 8 lets a quick search through beside slow ones.
worker_class = "web.worker.BoundedThreadWorker"
threads = int(os.environ.get("VNSEARCH_THREADS") or 8)
# Load the app (and with it pyvi's model) once in the master; workers share it by fork.
# Each worker still opens its own search.Index on first request (web.index.IndexHolder).
preload_app = True
accesslog = "-"
errorlog = "-"
# A worker whose oldest request has run this long is replaced (web/worker.py holds its heartbeat
# back to that request's start), as a sync worker stuck in a request would be.
timeout = 30
graceful_timeout = 20
keepalive = 5  # seconds an idle connection is kept; a client has web.worker.HEAD_TIMEOUT for a head
# gunicorn's maximum: a 500-character query of accented letters is 4.5 kB once URL-encoded.
limit_request_line = 8190
proc_name = "vnsearch"
# No runtime control socket (gunicorn ≥ 25): it would be shared by every server of this user.
control_socket_disable = True

# /metrics counts every worker (web/metrics.py): prometheus-client's multiprocess mode keeps each
# worker's counts in files in PROMETHEUS_MULTIPROC_DIR. It must be set before the app (and with it
# prometheus_client) is imported, so it is chosen here (web/metrics.py makes the directory); one
# chosen here is removed on exit by this server, whose pid it records. A directory another server
# chose, seen in an inherited environment, is not shared: this server chooses its own. A reload
# (SIGHUP) reads this file again in the same process and keeps the directory.
_owner_pid, _, _owner_dir = os.environ.get("VNSEARCH_METRICS_DIR_OWNER", "").partition(":")
_given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if not _given or (_given == _owner_dir and _owner_pid != str(os.getpid())):
    _name = f"vnsearch-metrics-{os.getpid()}-{secrets.token_hex(4)}"
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(tempfile.gettempdir(), _name)
    os.environ["VNSEARCH_METRICS_DIR_OWNER"] = f"{os.getpid()}:{os.environ['PROMETHEUS_MULTIPROC_DIR']}"


def on_starting(server):
    """Counts left by an earlier server in a directory given by the operator start again at zero."""
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.remove(os.path.join(folder, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if (
        os.environ.get("VNSEARCH_METRICS_DIR_OWNER")
        == f"{os.getpid()}:{os.environ['PROMETHEUS_MULTIPROC_DIR']}"
    ):
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
