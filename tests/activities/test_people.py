from __future__ import annotations

from wendu.activities.people import resolve_ids, resolve_one, resolve_roles


def _ids(resolution) -> list[tuple[str, str]]:
    return [(p.id, p.role) for p in resolution.people]


def test_roles_resolve_along_the_org_chart(store):
    with store() as session:
        found = resolve_roles(session, "E1", ["employee", "manager", "skip_manager", "hrbp"])
    assert _ids(found) == [
        ("E1", "employee"),
        ("M1", "manager"),
        ("S1", "skip_manager"),
        ("H1", "hrbp"),
    ]
    assert found.unresolved == []
    assert found.people[1].locale == "en"


def test_group_is_its_active_members(store):
    with store() as session:
        found = resolve_roles(session, "E1", ["group:hr-ops"])
    assert _ids(found) == [("H1", "group:hr-ops"), ("H2", "group:hr-ops")]


def test_each_person_once_first_role_wins(store):
    with store() as session:
        found = resolve_roles(session, "E1", ["hrbp", "group:hr-ops", "manager"])
    assert _ids(found) == [("H1", "hrbp"), ("H2", "group:hr-ops"), ("M1", "manager")]


def test_missing_people_are_reported_not_raised(store):
    with store() as session:
        found = resolve_roles(
            session, "E2", ["manager", "skip_manager", "hrbp", "group:nobody", "employee"]
        )
        unknown = resolve_roles(session, "NOPE", ["employee", "manager"])
    assert _ids(found) == [("E2", "employee")]
    assert [u.split(" ")[0] for u in found.unresolved] == [
        "manager",
        "skip_manager",
        "hrbp",
        "group:nobody",
    ]
    assert unknown.people == [] and len(unknown.unresolved) == 2


def test_inactive_manager_does_not_resolve(store):
    from wendu.store.db import transaction
    from wendu.store.models import Employee

    with transaction(store) as session:
        session.get(Employee, "M1").active = False
    with store() as session:
        found = resolve_roles(session, "E1", ["manager", "skip_manager"])
    # The skip manager is still reached through the departed manager's record.
    assert _ids(found) == [("S1", "skip_manager")]
    assert found.unresolved[0].startswith("manager")


def test_single_assignee_and_direct_ids(store):
    with store() as session:
        person, reason = resolve_one(session, "E1", "group:hr-ops")
        nobody, why = resolve_one(session, "E2", "manager")
        direct = resolve_ids(session, ["M1", "M1", "ZZ"])
    assert person.id == "H1" and reason == ""
    assert nobody is None and "E2" in why
    assert _ids(direct) == [("M1", "assignee")]
    assert direct.unresolved == ["ZZ (not found)"]


def test_a_group_is_matched_by_its_whole_name(store):
    # "hr" is part of "hr-ops" and "hr_ops" looks like it to SQL's LIKE: neither is "hr-ops".
    with store() as session:
        assert resolve_roles(session, "E1", ["group:hr"]).people == []
        assert resolve_roles(session, "E1", ["group:hr_ops"]).people == []
        assert _ids(resolve_roles(session, "E1", ["group:hr-ops"])) == [
            ("H1", "group:hr-ops"), ("H2", "group:hr-ops")]
