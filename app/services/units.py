"""Units (wards, clinics) that reports come from."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.services import NotFound, ServiceError
from app.services.audit import record
from models import Unit, User, db, transaction

#: The longest unit name the database holds.
NAME_MAX = 120


class UnitError(ServiceError):
    pass


class DuplicateUnit(UnitError):
    pass


def unit_choices(include_inactive: bool = False) -> list[tuple[int, str]]:
    """Units as (id, name), sorted by name, for select fields.

    A new report may name active units only; filters over old reports offer every unit.
    """
    query = select(Unit.id, Unit.name).order_by(Unit.name)
    if not include_inactive:
        query = query.where(Unit.active)
    return [(row.id, row.name) for row in db.session.execute(query)]


def ensure_units(names: list[str]) -> int:
    """Create the units that do not exist yet; return how many were created."""
    with transaction():
        existing = set(db.session.scalars(select(Unit.name)))
        new = [Unit(name=name) for name in names if name not in existing]
        db.session.add_all(new)
    return len(new)


def all_units() -> list[Unit]:
    """Every unit, active or not, sorted by name."""
    return list(db.session.scalars(select(Unit).order_by(Unit.name)))


def get_unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"no unit {unit_id}")
    return unit


def _clean_name(name: str, unit_id: int | None = None) -> str:
    """The stripped name, if it is valid and no other unit has it (in any letter case)."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise UnitError(f"a unit name has 1 to {NAME_MAX} characters")
    query = select(Unit.id).where(func.lower(Unit.name) == name.lower())
    if unit_id is not None:
        query = query.where(Unit.id != unit_id)
    if db.session.scalar(query) is not None:
        raise DuplicateUnit(f"a unit named {name} already exists")
    return name


@contextmanager
def _naming(name: str) -> Iterator[None]:
    """A transaction that gives a unit `name`; another one doing so at the same moment
    trips the unique index instead of our check."""
    try:
        with transaction():
            yield
    except IntegrityError as error:
        raise DuplicateUnit(f"a unit named {name.strip()} already exists") from error


def create_unit(actor: User | None, name: str) -> Unit:
    """A new active unit; `actor` None is the system (the command line)."""
    with _naming(name):
        unit = Unit(name=_clean_name(name))
        db.session.add(unit)
        db.session.flush()
        record("unit.create", actor, "unit", unit.id, name=unit.name)
    return unit


def rename_unit(actor: User, unit_id: int, name: str) -> Unit:
    with _naming(name):
        unit = get_unit(unit_id)
        previous, unit.name = unit.name, _clean_name(name, unit_id)
        if unit.name != previous:
            record("unit.rename", actor, "unit", unit.id, previous=previous, name=unit.name)
    return unit


def set_unit_active(actor: User, unit_id: int, active: bool) -> Unit:
    """Reactivate or deactivate a unit: an inactive unit is no longer offered on the report
    form, while its reports keep it."""
    with transaction():
        unit = get_unit(unit_id)
        if unit.active != active:
            unit.active = active
            record("unit.reactivate" if active else "unit.deactivate", actor, "unit", unit.id,
                   name=unit.name)
    return unit
