"""Units (wards, clinics) that reports come from."""

from sqlalchemy import select

from models import Unit, db, transaction


def unit_choices() -> list[tuple[int, str]]:
    """Active units as (id, name), sorted by name, for select fields."""
    rows = db.session.execute(select(Unit.id, Unit.name).where(Unit.active).order_by(Unit.name))
    return [(row.id, row.name) for row in rows]


def ensure_units(names: list[str]) -> int:
    """Create the units that do not exist yet; return how many were created."""
    with transaction():
        existing = set(db.session.scalars(select(Unit.name)))
        new = [Unit(name=name) for name in names if name not in existing]
        db.session.add_all(new)
    return len(new)
