"""Runs the app under gunicorn: one process, threads for websockets (Flask-SocketIO threading)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._app


def run(app: Flask, host: str, port: int, threads: int) -> None:
    """Serve ``app`` on host:port until interrupted.

    One worker only: Socket.IO needs sticky sessions, which gunicorn cannot give across
    workers; to scale out, run more processes behind a load balancer sharing Redis.
    """
    _Gunicorn(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            # Each websocket holds a connection for the whole shift.
            "worker_connections": max(1000, threads * 10),
            "timeout": 0,
            "graceful_timeout": 5,
            "accesslog": "-",
            "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
        },
    ).run()
