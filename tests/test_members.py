import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from leadroute.db.session import Database
from leadroute.errors import Conflict
from leadroute.ids import new_id
from leadroute.members.models import User, WorkspaceMember
from leadroute.members.repository import MEMBER_BATCH, MemberRepository
from leadroute.members.schemas import MemberCreate
from leadroute.members.service import MemberService
from tests.conftest import WorkspaceClient
from tests.wire import assert_is_error, assert_matches_response

MEMBERS = "/api/v2/workspace-members"


def add_member(api: TestClient, email: str, role: str = "editor", **fields: object) -> dict:
    response = api.post(MEMBERS, json={"email": email, "role": role, **fields})
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


def name_user(db: Database, email: str, first: str | None, last: str | None) -> None:
    with db.write_sessions.begin() as session:
        session.execute(
            update(User).where(User.email == email).values(first_name=first, last_name=last)
        )


def test_the_owner_is_a_member_with_the_owner_role(
    api: TestClient, workspace: WorkspaceClient
) -> None:
    response = api.get(MEMBERS)

    assert response.status_code == 200
    body = response.json()
    assert_matches_response(body, "GET", MEMBERS)
    [owner] = body["items"]
    assert owner["role"] == "owner"
    assert owner["email"] == "owner@acme.test"
    assert owner["user_id"] == workspace.owner_user_id
    assert owner["workspace_id"] == workspace.workspace_id
    assert owner["accepted"] is True
    assert "next_starting_after" not in body


def test_create_answers_an_accepted_member_with_the_lower_cased_email(
    api: TestClient, workspace: WorkspaceClient
) -> None:
    response = api.post(MEMBERS, json={"email": "  Ann.Lee@Example.TEST ", "role": "editor"})

    assert response.status_code == 200
    body = response.json()
    assert_matches_response(body, "POST", MEMBERS)
    assert set(body) == {
        "id",
        "user_id",
        "email",
        "role",
        "workspace_id",
        "accepted",
        "timestamp_created",
        "nickname",
        "permissions",
    }
    assert body["email"] == "ann.lee@example.test"
    assert body["role"] == "editor"
    assert body["accepted"] is True
    assert body["workspace_id"] == workspace.workspace_id
    assert body["nickname"] is None
    assert body["permissions"] is None
    assert body["id"] != body["user_id"]
    assert api.get(f"{MEMBERS}/{body['id']}").json() == body


def test_create_stores_nickname_and_permissions(api: TestClient) -> None:
    body = add_member(
        api,
        "bob@example.test",
        role="view",
        nickname="Bobby",
        permissions=["campaigns.view", "leads.move"],
    )

    assert_matches_response(body, "POST", MEMBERS)
    assert body["nickname"] == "Bobby"
    assert body["permissions"] == ["campaigns.view", "leads.move"]
    assert body["role"] == "view"


def test_the_same_email_in_two_workspaces_is_one_user(
    api: TestClient, other_workspace: WorkspaceClient
) -> None:
    here = add_member(api, "Shared@Example.test")
    there = other_workspace.client.post(
        MEMBERS, json={"email": "shared@EXAMPLE.test", "role": "admin"}
    ).json()

    assert there["user_id"] == here["user_id"]
    assert there["id"] != here["id"]
    assert there["role"] == "admin"


def test_an_existing_member_cannot_be_added_again(api: TestClient) -> None:
    add_member(api, "ann@example.test")

    again = assert_is_error(
        api.post(MEMBERS, json={"email": "ANN@example.test", "role": "view"}), 409
    )
    assert "ann@example.test" in again["message"]
    owner = api.post(MEMBERS, json={"email": "owner@acme.test", "role": "admin"})
    assert_is_error(owner, 409)
    assert len(api.get(MEMBERS).json()["items"]) == 2


def test_owner_and_client_roles_cannot_be_created(api: TestClient) -> None:
    for role in ("owner", "client", "superuser"):
        error = assert_is_error(
            api.post(MEMBERS, json={"email": "x@example.test", "role": role}), 400
        )
        assert "`role`" in error["message"]
    assert len(api.get(MEMBERS).json()["items"]) == 1


def test_create_validates_email_role_and_permissions(api: TestClient) -> None:
    missing = assert_is_error(api.post(MEMBERS, json={"role": "view"}), 400)
    assert "`email`" in missing["message"]
    malformed = assert_is_error(
        api.post(MEMBERS, json={"email": "not-an-email", "role": "view"}), 400
    )
    assert "`email`" in malformed["message"]
    no_role = assert_is_error(api.post(MEMBERS, json={"email": "a@example.test"}), 400)
    assert "`role`" in no_role["message"]
    bad_permission = api.post(
        MEMBERS, json={"email": "a@example.test", "role": "view", "permissions": ["root"]}
    )
    assert "`permissions.0`" in assert_is_error(bad_permission, 400)["message"]
    long_nickname = api.post(
        MEMBERS, json={"email": "a@example.test", "role": "view", "nickname": "n" * 81}
    )
    assert "`nickname`" in assert_is_error(long_nickname, 400)["message"]


def test_name_is_answered_only_with_the_parts_that_are_known(api: TestClient, db: Database) -> None:
    full = add_member(api, "full@example.test")
    first_only = add_member(api, "first@example.test")
    name_user(db, "full@example.test", "Ann", "Lee")
    name_user(db, "first@example.test", "Bo", None)

    full_body = api.get(f"{MEMBERS}/{full['id']}").json()
    first_body = api.get(f"{MEMBERS}/{first_only['id']}").json()

    assert full_body["name"] == {"first": "Ann", "last": "Lee"}
    assert first_body["name"] == {"first": "Bo"}
    assert_matches_response(full_body, "GET", f"{MEMBERS}/{{id}}")
    assert_matches_response(first_body, "GET", f"{MEMBERS}/{{id}}")


def test_search_matches_email_name_and_nickname_ignoring_case(
    api: TestClient, db: Database
) -> None:
    ann = add_member(api, "ann@alpha.test")
    bob = add_member(api, "bob@beta.test", nickname="Builder")
    carl = add_member(api, "carl@gamma.test")
    name_user(db, "carl@gamma.test", "Carl", "Anders")

    def search(term: str) -> list[str]:
        return [item["id"] for item in api.get(MEMBERS, params={"search": term}).json()["items"]]

    assert search("ALPHA") == [ann["id"]]
    assert search("builder") == [bob["id"]]
    assert search("carl anders") == [carl["id"]]
    assert search("an") == [ann["id"], carl["id"]]
    assert search("%") == []


def test_accepted_filter(api: TestClient) -> None:
    add_member(api, "ann@example.test")

    assert len(api.get(MEMBERS, params={"accepted": "true"}).json()["items"]) == 2
    assert api.get(MEMBERS, params={"accepted": "false"}).json()["items"] == []


def test_list_pages_in_id_order(api: TestClient) -> None:
    owner_id = api.get(MEMBERS).json()["items"][0]["id"]
    ids = [owner_id] + [add_member(api, f"m{i}@example.test")["id"] for i in range(4)]

    first = api.get(MEMBERS, params={"limit": 3}).json()
    second = api.get(
        MEMBERS, params={"limit": 3, "starting_after": first["next_starting_after"]}
    ).json()

    assert [item["id"] for item in first["items"]] == ids[:3]
    assert first["next_starting_after"] == ids[2]
    assert [item["id"] for item in second["items"]] == ids[3:]
    assert "next_starting_after" not in second
    assert_matches_response(second, "GET", MEMBERS)


def test_patch_changes_nickname_and_role(api: TestClient) -> None:
    member = add_member(api, "ann@example.test", role="view")

    response = api.patch(f"{MEMBERS}/{member['id']}", json={"nickname": "Annie", "role": "admin"})

    assert response.status_code == 200
    body = response.json()
    assert_matches_response(body, "PATCH", f"{MEMBERS}/{{id}}")
    assert body == {**member, "nickname": "Annie", "role": "admin"}
    cleared = api.patch(f"{MEMBERS}/{member['id']}", json={"nickname": None}).json()
    assert cleared["nickname"] is None
    assert cleared["role"] == "admin"


def test_patch_cannot_make_or_unmake_the_owner(api: TestClient) -> None:
    owner = api.get(MEMBERS).json()["items"][0]
    member = add_member(api, "ann@example.test")

    promote = api.patch(f"{MEMBERS}/{member['id']}", json={"role": "owner"})
    demote = api.patch(f"{MEMBERS}/{owner['id']}", json={"role": "admin"})

    assert "`role`" in assert_is_error(promote, 400)["message"]
    assert "`role`" in assert_is_error(demote, 400)["message"]
    assert api.get(f"{MEMBERS}/{owner['id']}").json()["role"] == "owner"
    assert api.get(f"{MEMBERS}/{member['id']}").json()["role"] == "editor"
    renamed = api.patch(f"{MEMBERS}/{owner['id']}", json={"nickname": "Boss"})
    assert renamed.status_code == 200
    assert renamed.json()["role"] == "owner"


def test_patch_needs_a_field_and_rejects_a_null_role(api: TestClient) -> None:
    member = add_member(api, "ann@example.test")

    assert_is_error(api.patch(f"{MEMBERS}/{member['id']}", json={}), 400)
    null_role = assert_is_error(api.patch(f"{MEMBERS}/{member['id']}", json={"role": None}), 400)
    assert "`role`" in null_role["message"]


def test_delete_answers_the_removed_member_and_keeps_the_user(
    api: TestClient, db: Database
) -> None:
    member = add_member(api, "ann@example.test")

    response = api.delete(f"{MEMBERS}/{member['id']}")

    assert response.status_code == 200
    assert response.json() == member
    assert_matches_response(response.json(), "DELETE", f"{MEMBERS}/{{id}}")
    assert_is_error(api.get(f"{MEMBERS}/{member['id']}"), 404)
    assert [item["role"] for item in api.get(MEMBERS).json()["items"]] == ["owner"]
    with db.read_sessions() as session:
        user_ids = session.scalars(select(User.id).where(User.email == "ann@example.test")).all()
    assert [str(user_id) for user_id in user_ids] == [member["user_id"]]
    again = add_member(api, "ann@example.test")
    assert again["user_id"] == member["user_id"]
    assert again["id"] != member["id"]


def test_the_owner_cannot_be_deleted(api: TestClient) -> None:
    owner = api.get(MEMBERS).json()["items"][0]

    assert_is_error(api.delete(f"{MEMBERS}/{owner['id']}"), 400)
    assert api.get(f"{MEMBERS}/{owner['id']}").status_code == 200


def test_unknown_and_malformed_ids(api: TestClient) -> None:
    unknown = str(new_id())
    assert_is_error(api.get(f"{MEMBERS}/{unknown}"), 404)
    assert_is_error(api.patch(f"{MEMBERS}/{unknown}", json={"nickname": "x"}), 404)
    assert_is_error(api.delete(f"{MEMBERS}/{unknown}"), 404)
    assert_is_error(api.get(f"{MEMBERS}/{uuid.uuid4()}"), 404)
    assert "`id`" in assert_is_error(api.get(f"{MEMBERS}/not-a-uuid"), 400)["message"]


def test_another_workspace_gets_404_and_never_lists_them(
    api: TestClient, other_workspace: WorkspaceClient
) -> None:
    member = add_member(api, "ann@example.test")
    owner = api.get(MEMBERS).json()["items"][0]
    intruder = other_workspace.client

    for target in (member, owner):
        assert_is_error(intruder.get(f"{MEMBERS}/{target['id']}"), 404)
        assert_is_error(intruder.patch(f"{MEMBERS}/{target['id']}", json={"nickname": "x"}), 404)
        assert_is_error(intruder.delete(f"{MEMBERS}/{target['id']}"), 404)
    [their_owner] = intruder.get(MEMBERS).json()["items"]
    assert their_owner["email"] == "owner@globex.test"
    assert intruder.get(MEMBERS, params={"search": "ann"}).json()["items"] == []
    assert api.get(f"{MEMBERS}/{member['id']}").json() == member


def test_a_concurrent_add_of_the_same_email_is_a_409_not_a_500(
    api: TestClient, db: Database, workspace: WorkspaceClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_member(api, "ann@example.test")

    with db.write_sessions() as session:
        service = MemberService(session, uuid.UUID(workspace.workspace_id))
        # As if the other request's insert landed after this one's check.
        monkeypatch.setattr(service.members, "get_by_user", lambda _user_id: None)
        with pytest.raises(Conflict):
            service.create(MemberCreate(email="ann@example.test", role="view"))
        session.rollback()

    assert len(api.get(MEMBERS).json()["items"]) == 2


def test_member_user_ids_checks_a_list_longer_than_one_statement_takes(
    workspace: WorkspaceClient, other_workspace: WorkspaceClient, db: Database
) -> None:
    def add_members(workspace: str, emails: list[str]) -> list[uuid.UUID]:
        with db.write_sessions.begin() as session:
            users = [User(email=email) for email in emails]
            session.add_all(users)
            session.flush()
            session.add_all(
                WorkspaceMember(workspace_id=uuid.UUID(workspace), user_id=user.id, role="editor")
                for user in users
            )
            return [user.id for user in users]

    ours = add_members(
        workspace.workspace_id, [f"member{i}@batch.test" for i in range(MEMBER_BATCH + 100)]
    )
    theirs = add_members(other_workspace.workspace_id, [f"other{i}@batch.test" for i in range(7)])
    asked = ours[::-1] + theirs + [uuid.uuid4()] + ours[:3]
    with db.read_sessions() as session:
        found = MemberRepository(session, uuid.UUID(workspace.workspace_id)).member_user_ids(asked)
    assert found == set(ours)
