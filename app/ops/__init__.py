"""Operations: health and readiness probes, Prometheus metrics, JSON logs with request ids,
graceful shutdown and the `backup` commands (README, "Operations" and "Backups").

This package file imports nothing on purpose: gunicorn's master loads
`app.ops.logging` and `app.ops.gunicorn_hooks` from gunicorn.conf.py, and must not
load prometheus_client before `gunicorn_hooks.on_starting` has chosen its
multiprocess directory. The factory registers `app.ops.routes.bp` and calls
`app.ops.instrument.init_app`.
"""
