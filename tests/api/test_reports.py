"""Reports through the client API and the admin API; forwarding as a ``Flag``."""

from __future__ import annotations

from typing import Any

import pytest

from agora_node.store import audit
from agora_node.store import reports as reports_store
from tests.api.c2s_rig import (
    ALICE,
    Node,
    WebFingerRemote,
    answer,
    auth,
    settle,
    store_remote_actor,
    token_for,
    verify_delivery,
)
from tests.conftest import BASE_URL, add_account
from tests.store.test_timelines import post

REPORTS = "/api/v1/reports"
ADMIN = "/api/v1/admin/reports"


def _actor_id(node: Node, uri: str) -> str:
    return str(node.db.read_sync(lambda c: c.execute(
        "SELECT id FROM actors WHERE uri = ?", [uri]).fetchone()[0]))  # fmt: skip


@pytest.fixture
def bob(node: Node, remotes: list[WebFingerRemote]) -> Any:
    remote = remotes[0]
    actor = remote.add_actor("bob")
    store_remote_actor(node.db, actor)
    return actor


async def _report_spam(node: Node, bob: Any) -> tuple[int, dict[str, Any]]:
    """One of bob's posts, reported by alice."""
    spam = node.db.write_sync(lambda c: post(c, bob.uri))
    filed = await answer(
        await node.client.post(
            REPORTS, data={"account_id": _actor_id(node, bob.uri), "status_ids[]": [str(spam)]},
            headers=auth(node.token),
        )
    )  # fmt: skip
    return spam, filed


@pytest.fixture
def admin(node: Node) -> str:
    mod = add_account(node.db, node.settings, "mod", is_admin=True)
    return token_for(node.db, mod, "read write admin:read admin:write")


async def _instance_key(node: Node) -> str:
    resp = await node.get("/actor")
    return str((await resp.json(content_type=None))["publicKey"]["publicKeyPem"])


async def test_a_report_is_filed_and_forwarded_anonymously(node: Node, bob: Any, remotes) -> None:  # type: ignore[no-untyped-def]
    spam = node.db.write_sync(lambda c: post(c, bob.uri))
    filed = await answer(
        await node.client.post(
            REPORTS,
            data={"account_id": _actor_id(node, bob.uri), "status_ids[]": [str(spam)],
                  "comment": "selling pills", "forward": "true", "category": "spam"},
            headers=auth(node.token),
        )
    )  # fmt: skip
    assert (filed["category"], filed["comment"], filed["forwarded"]) == (
        "spam", "selling pills", True,
    )  # fmt: skip
    assert filed["status_ids"] == [str(spam)] and filed["action_taken"] is False
    assert filed["target_account"]["acct"] == f"bob@{remotes[0].netloc}"
    # The Flag goes to bob's server from the instance actor, signed with its key.
    await settle(node)
    (received,) = [r for r in remotes[0].deliveries() if r.json().get("type") == "Flag"]
    flag = received.json()
    assert flag["actor"] == f"{BASE_URL}/actor"
    assert flag["object"] == [bob.uri, f"{bob.uri}/statuses/" + flag["object"][1].rsplit("/", 1)[1]]
    assert flag["content"] == "selling pills"
    assert ALICE not in received.body.decode()  # the reporter stays anonymous
    verify_delivery(remotes[0], received, await _instance_key(node))
    # Not forwarded unless asked.
    quiet = await answer(
        await node.client.post(
            REPORTS, data={"account_id": _actor_id(node, bob.uri)}, headers=auth(node.token)
        )
    )
    assert quiet["forwarded"] is False and quiet["category"] == "other"
    # The reporter reads their own reports back.
    mine = await answer(await node.client.get(REPORTS, headers=auth(node.token)))
    assert [r["id"] for r in mine] == [quiet["id"], filed["id"]]


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({}, 422, "account_id is missing"),
        ({"account_id": "99999"}, 404, "Record not found"),
        ({"account_id": "SELF"}, 422, "cannot report yourself"),
        ({"account_id": "BOB", "category": "meh"}, 422, "category must be one of"),
        ({"account_id": "BOB", "category": "violation"}, 422, "names the rules broken"),
        ({"account_id": "BOB", "rule_ids[]": ["7"]}, 422, "no rule 7"),
        ({"account_id": "BOB", "comment": "x" * 1001}, 422, "over 1000 characters"),
        ({"account_id": "BOB", "status_ids[]": ["MINE"]}, 422, "the reported account's"),
    ],
)
async def test_bad_reports_are_refused(
    node: Node, bob: Any, form: dict[str, Any], status: int, message: str
) -> None:
    mine = node.db.write_sync(lambda c: post(c, ALICE))
    swap = {"SELF": _actor_id(node, ALICE), "BOB": _actor_id(node, bob.uri), "MINE": str(mine)}
    data = {
        k: [swap.get(x, x) for x in v] if isinstance(v, list) else swap.get(v, v)
        for k, v in form.items()
    }
    resp = await node.client.post(REPORTS, data=data, headers=auth(node.token))
    assert resp.status == status, await resp.text()
    assert message in (await resp.json())["error"]
    assert node.db.read_sync(lambda c: reports_store.open_count(c)) == 0


async def test_admins_take_resolve_and_reopen_reports(node: Node, bob: Any, admin: str) -> None:
    spam, filed = await _report_spam(node, bob)
    # Only admins, with the admin scopes.
    assert (await node.client.get(ADMIN, headers=auth(node.token))).status == 403
    queue = await answer(await node.client.get(ADMIN, headers=auth(admin)))
    assert [r["id"] for r in queue] == [filed["id"]]
    one = queue[0]
    assert one["account"]["username"] == "alice" and one["target_account"]["username"] == "bob"
    assert one["target_account"]["domain"] and one["statuses"][0]["id"] == str(spam)
    taken = await answer(
        await node.client.post(f"{ADMIN}/{filed['id']}/assign_to_self", headers=auth(admin))
    )
    assert taken["assigned_account"]["username"] == "mod"
    recat = await answer(
        await node.client.put(f"{ADMIN}/{filed['id']}", data={"category": "spam"},
                              headers=auth(admin))
    )  # fmt: skip
    assert recat["category"] == "spam"
    done = await answer(
        await node.client.post(
            f"{ADMIN}/{filed['id']}/resolve",
            data={"action": "suspend", "action_taken_comment": "suspended, thanks"},
            headers=auth(admin),
        )
    )
    assert done["action_taken"] is True and done["action_taken_by_account"]["username"] == "mod"
    assert done["target_account"]["suspended"] is True
    # Resolved reports leave the default list; they are there with resolved=true.
    assert await answer(await node.client.get(ADMIN, headers=auth(admin))) == []
    closed = await answer(
        await node.client.get(ADMIN, params={"resolved": "true"}, headers=auth(admin))
    )
    assert [r["id"] for r in closed] == [filed["id"]]
    again = await node.client.post(f"{ADMIN}/{filed['id']}/resolve", headers=auth(admin))
    assert again.status == 422
    # The reporter is told: their report shows the decision; the notification is
    # one of the node's own kinds, for its pages, never sent to apps.
    mine = await answer(await node.client.get(f"{REPORTS}/{filed['id']}", headers=auth(node.token)))
    assert mine["action_taken"] and mine["action_taken_comment"] == "suspended, thanks"
    for params in ({}, {"types[]": "report_resolved"}):
        listed = await answer(
            await node.client.get("/api/v1/notifications", params=params, headers=auth(node.token))
        )
        assert all(n["type"] != "report_resolved" for n in listed)
    stored = node.db.read_sync(
        lambda c: c.execute("SELECT type FROM notifications WHERE account_id = ?",
                            [node.alice.id]).fetchall()
    )  # fmt: skip
    assert stored == [("report_resolved",)]
    reopened = await answer(
        await node.client.post(f"{ADMIN}/{filed['id']}/reopen", headers=auth(admin))
    )
    assert reopened["action_taken"] is False
    log = node.db.read_sync(lambda c: audit.entries(c, limit=10))
    assert [e.action for e in log] == [
        "report_reopen", "report_resolve", "account_suspend", "report_categorise",
        "report_assign",
    ]  # fmt: skip
    # Someone else's report is not theirs to read.
    other = add_account(node.db, node.settings, "carol")
    theirs = token_for(node.db, other, "read")
    assert (await node.client.get(f"{REPORTS}/{filed['id']}", headers=auth(theirs))).status == 404


async def test_resolving_with_delete_takes_the_posts_down(node: Node, bob: Any, admin: str) -> None:
    spam, filed = await _report_spam(node, bob)
    await answer(
        await node.client.post(
            f"{ADMIN}/{filed['id']}/resolve", data={"action": "delete"}, headers=auth(admin)
        )
    )
    gone = await node.client.get(f"/api/v1/statuses/{spam}", headers=auth(node.token))
    assert gone.status == 404
    bad = await node.client.post(f"{ADMIN}/{filed['id']}/reopen", headers=auth(admin))
    assert bad.status == 200
    wrong = await node.client.post(
        f"{ADMIN}/{filed['id']}/resolve", data={"action": "obliterate"}, headers=auth(admin)
    )
    assert wrong.status == 422 and "action must be one of" in (await wrong.json())["error"]
