"""What the API's test modules share: a token made the admin page's way, and its header."""

from app.services.api_tokens import create_token
from models import User


def new_token(app, admin: User, scopes: set[str], days: int = 30,
              system: str = "Journalsystemet") -> str:
    """A new token's secret, holding `scopes`."""
    with app.app_context():
        return create_token(system, scopes, days, admin).secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
