"""Slow clients cannot take the production topology offline (bench/slow_clients.py, bounded).

200 connections dribble their request (headers or body, a byte every half second) through
nginx for 10 s while a probe GETs a page every 100 ms: every probe is answered within 1 s.
Straight to gunicorn the same clients pin every sync worker (bench/slow_clients.py shows
it; the README says to run behind the proxy only). Needs nginx, not PostgreSQL: the probe
reads no data, so the two instances share an SQLite file.
"""

import secrets

import pytest

from bench.slow_clients import GOAL_S, prepare_sqlite, under_slow_clients
from deploy.local import Topology, app_environment, nginx_available

pytestmark = pytest.mark.skipif(not nginx_available(), reason="nginx is not installed")

CLIENTS, SECONDS = 200, 10.0


def test_every_probe_is_answered_within_a_second_under_slow_clients(tmp_path):
    database = tmp_path / "vaka.sqlite"
    prepare_sqlite(database)
    env = app_environment(f"sqlite:///{database}", None, secrets.token_hex(32), tmp_path)
    with Topology(tmp_path, env) as topology:
        probes = under_slow_clients(topology.proxy.port, topology.url + "/login", CLIENTS,
                                    SECONDS)
    assert probes.failures == 0
    assert len(probes.latencies) >= SECONDS / 0.2  # a probe every 100 ms, give or take
    assert max(probes.latencies) < GOAL_S, sorted(probes.latencies)[-5:]
