#!/usr/bin/env python3
"""Start moto's server with dr-drill's AWS Backup extension, for wire tests.

    .venv/bin/python tests/support/moto_server.py [--port 0] [--verbose] [--no-watch-stdin]

Binds 127.0.0.1 only, on --port (0, the default, picks a free port), then
prints exactly one line to stdout and flushes it:

    READY http://127.0.0.1:<port>

Everything printed later goes to stderr.  One endpoint serves every service
and region (point AWS_ENDPOINT_URL at it; S3 must use path-style addressing);
the account is moto's default, 123456789012.  See moto_backup.py for the
Backup operations added and the /_dr_drill/* test endpoints.

It serves until SIGTERM/SIGINT, or until its stdin reaches end of file when
stdin is a pipe or a socket: a test that spawns it with a piped stdin and then
dies (closing the pipe) takes the server with it.  A stdin that is a terminal,
a file or /dev/null is not watched (a shell's background job gets /dev/null);
--no-watch-stdin turns the watch off, --watch-stdin forces it on.

Request logs are off unless --verbose (a parent that pipes stderr and never
reads it must not block the server).  Env: DR_DRILL_MOTO_JOB_SECONDS (how long
Backup jobs take, default 2).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import stat
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# Fake credentials for anything in this process that might look for them.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def stdin_is_pipe() -> bool:
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def watch_stdin() -> None:
    """Exit the whole process when stdin reaches EOF (the parent went away)."""
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    os._exit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--watch-stdin", dest="watch", action="store_true", default=None,
                       help="exit when stdin closes, whatever stdin is")
    group.add_argument("--no-watch-stdin", dest="watch", action="store_false",
                       help="do not watch stdin")
    args = parser.parse_args(argv)

    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from werkzeug.serving import make_server

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    import moto_backup

    moto_backup.install()
    app = moto_backup.DrDrillMiddleware(DomainDispatcherApplication(create_backend_app))

    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_port
    os.environ["MOTO_PORT"] = str(port)

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    watch = args.watch if args.watch is not None else stdin_is_pipe()
    if watch:
        threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()

    sys.stdout.write(f"READY http://127.0.0.1:{port}\n")
    sys.stdout.flush()
    # Nothing else may reach stdout: the parent may read only the first line.
    os.dup2(2, 1)

    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
