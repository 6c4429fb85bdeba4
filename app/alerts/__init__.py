"""The alerts page: stored alerts, what people did with them, and the alert e-mails opt-in."""

from app.alerts.routes import bp

__all__ = ["bp"]
