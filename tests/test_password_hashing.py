"""Passwords are hashed by PASSWORD_HASH_METHOD: scrypt in production, a cheap method in
the tests (TestingConfig), whose users are many. Receipt codes get a keyed hash in both;
receipts stored with scrypt before that still open."""

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.services import NotFound
from app.services.drafts import RECEIPT_HASH_METHOD, report_for_receipt
from config import Config, TestingConfig
from models import Report, db
from tests.helpers import RECEIPT, all_reports, form_data

#: The production method, in the test app.
PRODUCTION = {"PASSWORD_HASH_METHOD": Config.PASSWORD_HASH_METHOD}


@pytest.mark.parametrize("app_config", [PRODUCTION], ids=["production"])
def test_production_hashes_passwords_with_scrypt_and_receipts_with_a_keyed_hash(
        app, client, make_user, login, make_unit):
    assert Config.PASSWORD_HASH_METHOD == "scrypt"
    user = make_user()
    assert user.password_hash.startswith("scrypt:")
    login(user)
    page = client.post("/", data=form_data(make_unit().id)).get_data(as_text=True)
    receipt = RECEIPT.search(page).group(1)
    [report] = all_reports(app)
    assert report.receipt_hash.startswith(RECEIPT_HASH_METHOD)
    with app.app_context():
        assert report_for_receipt(receipt).id == report.id
        with pytest.raises(NotFound):
            report_for_receipt(_one_character_off(receipt))


def _one_character_off(receipt: str) -> str:
    return receipt[:-1] + ("A" if receipt[-1] != "A" else "B")


def test_the_receipt_hash_depends_on_the_key(app, client, make_unit):
    page = client.post("/", data=form_data(make_unit().id)).get_data(as_text=True)
    receipt = RECEIPT.search(page).group(1)
    app.config["RECEIPT_KEY"] = "another key"
    with app.app_context(), pytest.raises(NotFound):
        report_for_receipt(receipt)


def test_a_receipt_stored_with_scrypt_still_opens(app, client, make_unit):
    page = client.post("/", data=form_data(make_unit().id)).get_data(as_text=True)
    receipt = RECEIPT.search(page).group(1)
    secret = receipt.split("-", 2)[2].replace("-", "")
    with app.app_context():
        [report] = db.session.scalars(select(Report)).all()
        report.receipt_hash = generate_password_hash(secret, "scrypt")
        db.session.commit()
        assert report_for_receipt(receipt).id == report.id
        with pytest.raises(NotFound):
            report_for_receipt(_one_character_off(receipt))


def test_the_tests_hash_by_the_testing_method(make_user):
    assert TestingConfig.PASSWORD_HASH_METHOD != Config.PASSWORD_HASH_METHOD
    assert make_user().password_hash.startswith(TestingConfig.PASSWORD_HASH_METHOD + "$")
