"""Passwords and receipt codes are hashed by PASSWORD_HASH_METHOD: scrypt in production,
a cheap method in the tests (TestingConfig), whose users and receipts are many."""

import pytest

from app.services import NotFound
from app.services.reports import report_for_receipt
from config import Config, TestingConfig
from tests.helpers import RECEIPT, all_reports, form_data

#: The production method, in the test app.
PRODUCTION = {"PASSWORD_HASH_METHOD": Config.PASSWORD_HASH_METHOD}


@pytest.mark.parametrize("app_config", [PRODUCTION], ids=["production"])
def test_production_hashes_passwords_and_receipts_with_scrypt(app, client, make_user, login,
                                                              make_unit):
    assert Config.PASSWORD_HASH_METHOD == "scrypt"
    user = make_user()
    assert user.password_hash.startswith("scrypt:")
    login(user)
    page = client.post("/", data=form_data(make_unit().id)).get_data(as_text=True)
    receipt = RECEIPT.search(page).group(1)
    [report] = all_reports(app)
    assert report.receipt_hash.startswith("scrypt:")
    with app.app_context():
        assert report_for_receipt(receipt).id == report.id
        with pytest.raises(NotFound):
            report_for_receipt(receipt[:-1] + ("A" if receipt[-1] != "A" else "B"))


def test_the_tests_hash_by_the_testing_method(make_user):
    assert TestingConfig.PASSWORD_HASH_METHOD != Config.PASSWORD_HASH_METHOD
    assert make_user().password_hash.startswith(TestingConfig.PASSWORD_HASH_METHOD + "$")
