"""The Microbizz credential policy, asked of the core directly (no HTTP)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from polycrm.core import auth
from polycrm.core.models import User
from polycrm.core.workspace import Workspace


def login(tenant: dict, **override) -> dict:
    mb = tenant["microbizz"]
    return {"apikey": mb["apikey"], "username": mb["username"], "password": mb["password"], **override}


def principal(runtime, tenant: dict, **credentials) -> auth.Principal:
    return auth.microbizz_principal(runtime.db, tenant["microbizz"]["contract"], **credentials)


def denied(runtime, tenant: dict, **credentials) -> str:
    with pytest.raises(auth.Denied) as caught:
        principal(runtime, tenant, **credentials)
    return caught.value.message


def add_token(runtime, tenant: dict, *, user_id=None, ttl=None) -> tuple[str, int]:
    """A fresh app-connect access token (tokens are unique installation-wide) and its id."""
    token = uuid.uuid4().hex
    with auth.system_session(runtime.db) as session, session.begin():
        return token, auth.add_credential(session, tenant["tenant_id"], user_id, auth.MICROBIZZ_ACCESSTOKEN, token, ttl=ttl).id


def add_user(runtime, tenant: dict, username: str, password: str, *, is_admin: bool = False) -> int:
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        user = ws.create(
            User, username=username, name=username, email=f"{username}@example.org",
            password_hash=auth.hash_password(password), is_admin=is_admin,
        )
        return user.id


# -- apikey + username + password ---------------------------------------------------------
def test_apikey_username_and_password_name_that_user(runtime, tenant):
    found = principal(runtime, tenant, **login(tenant))
    assert (found.tenant_id, found.user_id) == (tenant["tenant_id"], tenant["user_id"])
    assert found.credential_id is not None


def test_the_username_may_be_the_users_email(runtime, tenant):
    add_user(runtime, tenant, "clerk", "clerk-secret")
    found = principal(runtime, tenant, **login(tenant, username="CLERK@example.org", password="clerk-secret"))
    assert found.user_id != tenant["user_id"]


def test_a_wrong_password_unknown_user_or_wrong_key_is_one_reason(runtime, tenant):
    for override in ({"password": "wrong"}, {"username": "nobody"}, {"apikey": "wrong-key"}):
        assert denied(runtime, tenant, **login(tenant, **override)) == "wrong apikey, username or password"


@pytest.mark.parametrize("missing", ["apikey", "username", "password"])
def test_all_three_are_required(runtime, tenant, missing):
    assert denied(runtime, tenant, **login(tenant, **{missing: ""})) == "apikey, username and password are required"
    assert denied(runtime, tenant, **login(tenant, **{missing: 42})) == "apikey, username and password are required"


def test_an_inactive_user_is_refused(runtime, tenant):
    with Workspace(runtime.db, tenant["tenant_id"]) as ws:
        ws.update(ws.get(User, tenant["user_id"]), {"active": False})
    assert denied(runtime, tenant, **login(tenant)) == "wrong apikey, username or password"


@pytest.mark.parametrize("text", ["ad\x00min", "ad\ud800min"])
def test_text_no_lookup_can_carry_is_a_wrong_login_not_a_crash(runtime, tenant, text):
    for field in ("apikey", "username", "password"):
        assert denied(runtime, tenant, **login(tenant, **{field: text})) == "wrong apikey, username or password"
    assert denied(runtime, tenant, accesstoken=text) == "invalid accesstoken"


# -- the contract --------------------------------------------------------------------------
def test_an_unknown_contract_is_named(runtime, tenant):
    with pytest.raises(auth.Denied) as caught:
        auth.microbizz_principal(runtime.db, 987654321, **login(tenant))
    assert caught.value.message == "unknown contract 987654321"


def test_a_contract_beyond_the_column_is_unknown(runtime, tenant):
    with pytest.raises(auth.Denied) as caught:
        auth.microbizz_principal(runtime.db, 10**30, **login(tenant))
    assert caught.value.message == f"unknown contract {10**30}"


def test_another_tenants_apikey_does_not_open_this_contract(runtime, tenant, other_tenant):
    theirs = other_tenant["microbizz"]
    assert denied(runtime, tenant, **login(tenant, apikey=theirs["apikey"])) == "wrong apikey, username or password"
    # Their own login, sent with this tenant's contract, opens nothing either.
    assert denied(runtime, tenant, **login(other_tenant)) == "wrong apikey, username or password"


# -- accesstoken ---------------------------------------------------------------------------
def test_an_access_token_names_its_user(runtime, tenant):
    clerk = add_user(runtime, tenant, "clerk", "clerk-secret")
    token, cred_id = add_token(runtime, tenant, user_id=clerk)
    assert principal(runtime, tenant, accesstoken=token) == auth.Principal(tenant["tenant_id"], clerk, cred_id)


def test_an_access_token_wins_over_a_login(runtime, tenant):
    """A valid accesstoken decides (the login fields are not looked at); a
    stale one next to a valid login is accepted through the login (issue 11)."""
    token, cred_id = add_token(runtime, tenant, user_id=tenant["user_id"])
    assert principal(runtime, tenant, accesstoken=token, password="wrong") == auth.Principal(
        tenant["tenant_id"], tenant["user_id"], cred_id)
    assert principal(runtime, tenant, accesstoken="forged", **login(tenant)).user_id == tenant["user_id"]
    assert denied(runtime, tenant, accesstoken="forged", **{**login(tenant), "password": "wrong"}) == (
        "wrong apikey, username or password")
    assert denied(runtime, tenant, accesstoken="forged", password="x") == "apikey, username and password are required"
    # An empty one is no token: the login decides.
    assert principal(runtime, tenant, accesstoken="", **login(tenant)).user_id == tenant["user_id"]


def test_an_api_key_is_accepted_as_an_access_token(runtime, tenant):
    found = principal(runtime, tenant, accesstoken=tenant["microbizz"]["apikey"])
    assert (found.tenant_id, found.user_id) == (tenant["tenant_id"], tenant["user_id"])


def test_a_token_of_no_user_acts_as_the_first_admin(runtime, tenant):
    add_user(runtime, tenant, "clerk", "clerk-secret")
    token, _ = add_token(runtime, tenant)
    assert principal(runtime, tenant, accesstoken=token).user_id == tenant["user_id"]


def test_another_tenants_access_token_is_refused(runtime, tenant, other_tenant):
    theirs, _ = add_token(runtime, other_tenant, user_id=other_tenant["user_id"])
    assert denied(runtime, tenant, accesstoken=theirs) == "invalid accesstoken"
    assert denied(runtime, tenant, accesstoken=other_tenant["microbizz"]["apikey"]) == "invalid accesstoken"
    assert principal(runtime, other_tenant, accesstoken=theirs).tenant_id == other_tenant["tenant_id"]


def test_a_token_that_is_not_text_is_invalid(runtime, tenant):
    assert denied(runtime, tenant, accesstoken=12345) == "invalid accesstoken"


# -- revoked and expired credentials ----------------------------------------------------------
def test_a_revoked_or_expired_access_token_is_refused(runtime, tenant):
    expired, _ = add_token(runtime, tenant, user_id=tenant["user_id"], ttl=dt.timedelta(seconds=-1))
    assert denied(runtime, tenant, accesstoken=expired) == "invalid accesstoken"
    revoked, _ = add_token(runtime, tenant, user_id=tenant["user_id"])
    assert principal(runtime, tenant, accesstoken=revoked)
    assert auth.revoke_token(runtime.db, auth.MICROBIZZ_ACCESSTOKEN, revoked)
    assert denied(runtime, tenant, accesstoken=revoked) == "invalid accesstoken"


def test_a_revoked_api_key_opens_nothing(runtime, tenant):
    assert auth.revoke_token(runtime.db, auth.MICROBIZZ_APIKEY, tenant["microbizz"]["apikey"])
    assert denied(runtime, tenant, **login(tenant)) == "wrong apikey, username or password"
    assert denied(runtime, tenant, accesstoken=tenant["microbizz"]["apikey"]) == "invalid accesstoken"



# -- resolve_token: the lookup every Cirrus, centiaCRM, admin and web request makes ------------
def add_cirrus_token(runtime, tenant: dict, *, ttl=None) -> str:
    token = uuid.uuid4().hex
    with auth.system_session(runtime.db) as session, session.begin():
        auth.add_credential(session, tenant["tenant_id"], tenant["user_id"], auth.CIRRUS_XTOKEN, token, ttl=ttl)
    return token


def test_resolve_token_names_the_tenant_user_and_credential(runtime, tenant):
    token = add_cirrus_token(runtime, tenant, ttl=dt.timedelta(hours=1))
    found = auth.resolve_token(runtime.db, auth.CIRRUS_XTOKEN, token)
    with auth.system_session(runtime.db) as session:
        cred = auth.find_credential(session, auth.CIRRUS_XTOKEN, token)
    assert found == auth.Principal(tenant["tenant_id"], tenant["user_id"], cred.id)


def test_resolve_token_refuses_expired_revoked_unknown_and_other_kinds(runtime, tenant):
    expired = add_cirrus_token(runtime, tenant, ttl=dt.timedelta(seconds=-1))
    assert auth.resolve_token(runtime.db, auth.CIRRUS_XTOKEN, expired) is None
    revoked = add_cirrus_token(runtime, tenant)
    assert auth.resolve_token(runtime.db, auth.CIRRUS_XTOKEN, revoked) is not None
    assert auth.revoke_token(runtime.db, auth.CIRRUS_XTOKEN, revoked)
    # Refused at once: the lookup is made again, nothing is cached.
    assert auth.resolve_token(runtime.db, auth.CIRRUS_XTOKEN, revoked) is None
    assert auth.resolve_token(runtime.db, auth.CIRRUS_XTOKEN, "no-such-token") is None
    assert auth.resolve_token(runtime.db, auth.CENTIA_TOKEN, add_cirrus_token(runtime, tenant)) is None


def test_resolve_token_refuses_a_deleted_credential_at_once(runtime, tenant):
    from sqlalchemy import delete

    from polycrm.core.models import Credential

    token = add_cirrus_token(runtime, tenant)
    assert auth.resolve_token(runtime.db, auth.CIRRUS_XTOKEN, token) is not None
    with auth.system_session(runtime.db, write=True) as session, session.begin():
        session.execute(delete(Credential).where(Credential.key_id == auth.token_key(token)))
    assert auth.resolve_token(runtime.db, auth.CIRRUS_XTOKEN, token) is None
