"""Known issues: reports about the same fault grouped, resolved and told to their reporters."""

from app.known_issues.routes import bp, report_panels

__all__ = ["bp", "report_panels"]
