"""Invitation texts: what a good one carries, and a clear error for each way one goes wrong."""

from __future__ import annotations

import datetime

import pytest

from console.nodes import invitations as inv
from console.nodes.identity import make_key_and_certificate


def _good() -> inv.InvitationText:
    invitation_id, secret = inv.new_secret()
    return inv.InvitationText("alice", "alice.example.org:7443", "a" * 64, invitation_id, secret)


def test_it_round_trips_as_one_line():
    invitation = _good()
    text = invitation.render()
    assert "\n" not in text
    assert " " not in text
    assert inv.parse(text) == invitation


def test_it_ignores_line_breaks_a_mail_client_added():
    text = _good().render()
    assert inv.parse(f"  {text[:50]}\n{text[50:]}\n") == inv.parse(text)


def test_it_accepts_an_ipv6_address():
    invitation = _good()
    text = invitation.render().replace("alice.example.org:7443", "[::1]:7443")
    assert inv.parse(text).address == "[::1]:7443"


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda t: "", "The invitation is empty"),
        (lambda t: "hello there", "This is not a PrivPad invitation"),
        (lambda t: t.replace("/1;", "/2;"), "version “2” is not supported"),
        (lambda t: t.split(";secret=")[0], "has no secret: it was cut short"),
        (lambda t: t.replace("node=alice;", ""), "has no node"),
        (lambda t: t + ";colour=blue", "unknown part “colour=blue”"),
        (lambda t: t + ";node=bob", "gives “node” twice"),
        (lambda t: t.replace("node=alice", "node=Alice Bank"), "node “AliceBank” is not a node"),
        (lambda t: t.replace(":7443", ":99999"), "is not host:port with a port from 1 to 65535"),
        (lambda t: t.replace(":7443", ""), "is not host:port"),
        (lambda t: t.replace("a" * 64, "a" * 63), "fingerprint “" + "a" * 63 + "” is not 64"),
        (lambda t: t.replace("a" * 64, "A" * 64), "is not 64 lower-case hex digits"),
        (lambda t: t[:-5], "secret is damaged"),
        (lambda t: t.rsplit("=", 1)[0] + "=" + "_" * 43, "secret is damaged"),
        (lambda t: "x" * 5000, "at most 2000"),
    ],
)
def test_it_names_what_is_wrong_with_a_bad_invitation(mangle, message):
    with pytest.raises(inv.InvitationError, match=None) as error:
        inv.parse(mangle(_good().render()))
    assert message in str(error.value)


def test_an_acceptor_certificate_is_issued_by_the_invitations_authority():
    from cryptography.hazmat.primitives.asymmetric import ec

    invitation = _good()
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    authority = inv.load_certificate(
        inv.authority_certificate(invitation.id, invitation.secret, expires)
    )
    _, bob_cert = make_key_and_certificate("bob")
    leaf = inv.load_certificate(inv.acceptor_certificate(invitation, "bob", bob_cert))
    authority.public_key().verify(
        leaf.signature, leaf.tbs_certificate_bytes, ec.ECDSA(leaf.signature_hash_algorithm)
    )
    assert leaf.issuer == authority.subject
    assert leaf.public_key() == inv.load_certificate(bob_cert).public_key()
    assert inv.invitation_id_of(inv.acceptor_certificate(invitation, "bob", bob_cert)) == (
        invitation.id
    )
    assert inv.invitation_id_of(bob_cert) is None
