"""Brute force on logins and receipts is throttled, per address and per account."""

import os

import pytest

from app.extensions import limiter
from models import db

LIMITS = {"RATELIMIT_ENABLED": True, "LOGIN_LIMIT_PER_ADDRESS": "6 per minute",
          "LOGIN_LIMIT_PER_ACCOUNT": "4 per minute", "RECEIPT_LIMIT_PER_ADDRESS": "3 per minute"}


@pytest.fixture
def app_config():
    return dict(LIMITS)


@pytest.fixture(autouse=True)
def fresh_counters(app):
    with app.app_context():
        limiter.reset()
    yield


def attempt(client, email: str, address: str = "10.0.0.1", password: str = "wrong password!",
            **headers):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_one_account_is_throttled_from_any_address(client, make_user):
    user = make_user()
    codes = [attempt(client, user.email, address=f"10.0.0.{n}").status_code for n in range(5)]
    assert codes == [200, 200, 200, 200, 429]
    # Even the right password waits now: a guesser cannot tell it was right.
    right = attempt(client, user.email, address="10.0.0.9",
                    password="correct horse battery staple")
    assert right.status_code == 429


def test_one_address_is_throttled_across_accounts(client, make_user):
    codes = [attempt(client, f"nobody{n}@example.org").status_code for n in range(7)]
    assert codes[:6] == [200] * 6 and codes[6] == 429


def test_forwarded_for_is_ignored_without_trusted_proxies(client):
    codes = [attempt(client, f"n{n}@example.org", **{"X-Forwarded-For": f"192.0.2.{n}"})
             .status_code for n in range(7)]
    assert codes[6] == 429


@pytest.mark.parametrize("app_config", [{**LIMITS, "TRUSTED_PROXIES": 1}])
def test_forwarded_for_from_a_trusted_proxy_names_the_client(client):
    codes = [attempt(client, f"n{n}@example.org", **{"X-Forwarded-For": f"192.0.2.{n}"})
             .status_code for n in range(7)]
    assert codes == [200] * 7


def test_receipt_guessing_is_throttled(client):
    codes = [client.post("/status", data={"receipt": f"V-000001-AAAA-AAAA-AAAA-AAAA-AAA{n}"})
             .status_code for n in range(4)]
    assert codes == [400, 400, 400, 429]
    assert client.get("/status").status_code == 200  # reading the form is not limited


def test_the_store_never_holds_a_client_address(app, client):
    attempt(client, "someone@example.org", address="203.0.113.77")
    with app.app_context():
        storage = limiter.storage
        keys = list(getattr(storage, "storage", {}))
    assert keys and not any("203.0.113.77" in key for key in keys)


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.parametrize("app_config", [{**LIMITS, "RATELIMIT_STORAGE_URI": REDIS_URL}])
def test_instances_share_counters_through_redis(app_config, make_user, client):
    if not _redis_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    from app import create_app
    from config import TestingConfig

    user = make_user()
    assert [attempt(client, user.email).status_code for _ in range(2)] == [200, 200]
    # A second app instance (another worker or server) sees the same counts.
    second = create_app(TestingConfig, **app_config)
    with second.app_context():
        db.create_all()
    try:
        other = second.test_client()
        codes = [attempt(other, user.email, address="10.0.0.2").status_code for _ in range(3)]
    finally:
        with second.app_context():
            db.session.remove()
            db.engine.dispose()
    assert codes == [200, 200, 429]
