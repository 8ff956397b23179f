"""U+0000 in the gateway's own forms (kernel.nul, inside the forwarder): PostgreSQL cannot store or even
compare it in text, so a crafted sign-in form answered 500 there. Refused with a problem naming the field."""

from __future__ import annotations

from tests.gateway.support import Gateway, assert_problem
from tests.gateway.test_staff import ADMIN_EMAIL, audit, create_account, sign_in
from tests.gateway.test_staff import browsers as browsers  # the fixture
from tests.gateway.test_staff import gateway as gateway  # the fixture


async def test_a_sign_in_form_with_the_character_is_refused_naming_the_field(gateway: Gateway, browsers) -> None:
    await create_account(gateway)
    browser = browsers()
    refused = await sign_in(browser, email=ADMIN_EMAIL.replace("@", "\x00@"))
    body = assert_problem(refused, 422, "validation")
    assert [(e["pointer"], e["rule"]) for e in body["errors"]] == [("/email", "no_nul_character")]
    assert await audit(gateway, "staff.sign_in_failed") == []  # refused before the form reached the route
    assert (await sign_in(browser)).status_code in (302, 303)  # the same browser, a proper form: signed in
