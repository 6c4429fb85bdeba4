"""The coordination group's triage: the queue and each report's detail."""

from app.triage import workflow  # registers the workflow routes on bp
from app.triage.routes import bp

__all__ = ["bp", "workflow"]
