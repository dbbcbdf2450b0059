"""Why a run's engine links failed, in the reader's language: the one table from the engine's
link causes (`core.comm.causes`: a stable code and params) to stored messages
(`workflows.messages`).

The engine says why a link failed in English (its exceptions' text, for Python users) and as a
`LinkCause`. A network run keeps the message built here, so each reader of the run (at every
node) reads the cause in their own language. Party names, addresses, seconds and link versions
are params, shown as they are; a nested cause is worded here too. What the engine knows only
as English words (a gRPC transport's own error text, the detail of a malformed frame, a reason
an older peer sent) stays a text param, shown as it is.

A peer's abort may carry the message its own workflows layer wrote (`party._Worker._failed`:
"alice stopped at node train: ..."): it was built by the peer, so it is rendered as any peer's
message is (`workflows.messages.render` formats only plain `%(name)s` placeholders).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from core.comm.causes import LinkCause
from core.errors import LinkError
from workflows.messages import Message, parse, translatable

MESSAGES = {
    "not_hello": _("the first message was not a hello"),
    "malformed_control": _("malformed control message (%(problem)s)"),
    "stranger": _("%(peer)s is not a party of this run (%(parties)s)"),
    "version_mismatch": _(
        "protocol mismatch: %(peer)s speaks link version %(theirs)s, %(party)s speaks %(ours)s"
    ),
    "misdialled": _("%(peer)s dialled %(dialled)s but reached %(party)s"),
    "parties_mismatch": _(
        "configuration mismatch: %(peer)s has parties %(theirs)s, %(party)s has %(ours)s"
    ),
    "wrong_certificate": _("wrong certificate: %(problem)s"),
    "no_certificate": _("a peer claiming to be %(peer)s presented no certificate"),
    "foreign_certificate": _(
        "a peer claiming to be %(peer)s presented another party's certificate"
    ),
    "misnamed_certificate": _(
        "a peer claiming to be %(peer)s presented a certificate issued for another name"
    ),
    "restarted": _("%(peer)s restarted: what it held of the computation is gone"),
    "setup_failed": _("%(party)s could not set up its links: %(reason)s"),
    "stale_dial": _("stale or malformed dial %(dial)s"),
    "other_transport": _(
        "%(peer)s does not speak the %(ours)s link transport: every node of a run must use "
        "the same one (PRIVPAD_LINK_TRANSPORT)"
    ),
    "aborted": _("%(peer)s aborted: %(reason)s"),
    "party_failed": _("%(party)s failed with %(error)s"),
    "party_failed_link": _("%(party)s failed with %(error)s: %(reason)s"),
    "malformed_frame": _("%(peer)s sent a malformed frame: %(detail)s"),
    "malformed_message": _("%(peer)s sent a malformed %(what)s: %(problem)s"),
    "unexpected_message": _(
        "%(peer)s sent %(got)s where %(party)s expects %(expected)s (%(what)s, at %(step)s of "
        "channel %(channel)s)"
    ),
    "ended_during_step": _(
        "%(peer)s ended its program while %(party)s waits for its message of %(step)s on "
        "channel %(channel)s: do the parties run the same program?"
    ),
    "flooded": _(
        "%(peer)s sent %(size)s bytes that %(party)s does not read (on channels %(channels)s), "
        "filling its receive buffer while it waits for a message on channel %(channel)s"
    ),
    "program_mismatch": _(
        "%(peer)s runs another program: its message on channel %(channel)s is of %(theirs)s, "
        "where %(party)s is at %(ours)s"
    ),
    "lost": _(
        "lost connection to %(peer)s (its stream broke and was not restored within %(seconds)s s)"
    ),
    "lost_refused": _("lost connection to %(peer)s (%(reason)s); it refused: %(refusal)s"),
    "lost_not_restored": _(
        "lost connection to %(peer)s (%(reason)s); not restored within %(seconds)s s"
    ),
    "cannot_resume": _("cannot resume the link to %(peer)s: %(reason)s"),
    "frame_dropped": _(
        "%(peer)s expects frame %(expected)s but %(party)s holds frames from %(kept)s on "
        "(it acknowledged the earlier ones)"
    ),
    "frame_unsent": _(
        "%(peer)s expects frame %(expected)s but %(party)s sent frames up to %(last)s"
    ),
    "closed": _("the link was closed"),
    "peer_closed": _("%(peer)s has shut down its link"),
    "timeout": _("%(party)s timed out after %(seconds)s s waiting for %(peer)s"),
    "send_timeout": _(
        "%(party)s timed out after %(seconds)s s sending to %(peer)s (it stopped reading)"
    ),
    "too_large": _("a message of %(size)s bytes to %(peer)s exceeds the frame limit"),
    "dial_refused": _("%(peer)s refused the link from %(party)s: %(reason)s"),
    "unreachable": _(
        "%(party)s cannot reach %(peer)s at %(address)s within %(seconds)s s: %(reason)s"
    ),
    "gave_up": _("%(party)s gave up dialling %(peer)s"),
    "no_hello": _("%(peer)s did not connect back to %(party)s within %(seconds)s s"),
    "no_hello_at": _(
        "%(peer)s did not connect back to %(party)s at %(address)s within %(seconds)s s "
        "(is that the address %(peer)s has for %(party)s?)"
    ),
    "listen_failed": _("%(party)s cannot listen on %(address)s: %(reason)s"),
    "address_in_use": _("%(party)s cannot listen on %(address)s (in use or invalid)"),
}
# Worded without a message of their own: `at_party` ("'alice': <cause>", the reader's node
# needs no telling where it stands) as its inner cause, `several` as the list of its causes.
UNWRAPPED = frozenset({"at_party", "several"})


def link_error_message(error: LinkError) -> Message | list | str:
    """Why `error` happened, to store or to nest in a run's message: its cause worded
    (`cause_message`), the message of a workflow-level link error
    (`workflows.placement.WorkflowLinkError`), else its English text."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, LinkCause):
        return cause_message(cause)
    message = getattr(error, "message", None)
    return message if isinstance(message, Message) else str(error)


def cause_message(cause: LinkCause) -> Message | list | str:
    """`cause` as a message (a list of messages for `several`); see the module docstring."""
    if cause.code == "at_party":
        return _param(cause.params.get("reason", ""))
    if cause.code == "several":
        return [_param(item) for item in cause.params.get("causes", ())]
    params = {name: _param(value) for name, value in cause.params.items() if name != "message"}
    message = cause.params.get("message")
    if cause.code == "aborted" and isinstance(message, dict):
        params["reason"] = parse(message)  # the peer's own words for its abort
    if "seconds" in params:
        params["seconds"] = _seconds(cause.params["seconds"])
    return translatable(MESSAGES[cause.code], **params)


def _param(value: Any) -> Any:
    if isinstance(value, LinkCause):
        return cause_message(value)
    if isinstance(value, list | tuple):
        return [_param(item) for item in value]
    return value


def _seconds(value: Any) -> Any:
    return f"{value:.0f}" if isinstance(value, int | float) else value
