"""`manage.py node ...`: this installation's node identity, pairing, routes and service.

node init --name alice --address alice.example.org:7443 [--display-name ...] [--force]
node show                      this node, its fingerprint and its routes with health
node invite [--days 1..7] [--file PATH]
node invitations | node revoke ID   open invitations; close one at once
node accept TEXT | --file PATH
node health [PEER ...]         ping peers now (latency, last seen)
node disable PEER | node enable PEER
node rotate-certificate [--grace-seconds N] [--force]   new key pair; tell every peer
node notify-rotation [--peer PEER ...]   tell peers not told of the last rotation again
node serve [--listen HOST:PORT]
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from console.nodes import invitations as inv
from console.nodes import pairing, rotation
from console.nodes.link.transport import NodeCallError
from console.nodes.models import EXPIRY_WARNING_DAYS, Invitation, PeerRoute
from workflows.messages import render


class Command(BaseCommand):
    help = "This node's identity, pairing with other nodes, routes, and the node service."
    # Run in `handle` instead, except for `init`: before it, the check that a network node
    # has an identity would only tell the operator to run the command they are running.
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        init = sub.add_parser("init", help="create this node's key pair and certificate")
        init.add_argument("--name", required=True)
        init.add_argument("--address", required=True, help="host:port peers call")
        init.add_argument("--display-name", default="")
        init.add_argument("--force", action="store_true", help="replace an existing identity")
        sub.add_parser("show", help="this node and its routes")
        invite = sub.add_parser("invite", help="create a pairing invitation")
        invite.add_argument(
            "--days",
            type=int,
            default=pairing.INVITATION_DAYS,
            help=f"how long it stays open, 1 to {pairing.INVITATION_DAYS} (the default)",
        )
        invite.add_argument("--file", help="also write the invitation to this file (0600)")
        sub.add_parser("invitations", help="list open invitations")
        sub.add_parser("revoke", help="revoke an open invitation").add_argument("id")
        accept = sub.add_parser("accept", help="accept another node's invitation")
        accept.add_argument("text", nargs="?", help="the invitation line")
        accept.add_argument("--file", help="read the invitation from this file")
        health = sub.add_parser("health", help="ping peers now")
        health.add_argument("peers", nargs="*")
        for action in ("enable", "disable"):
            sub.add_parser(action, help=f"{action} the route to a peer").add_argument("peer")
        rotate = sub.add_parser(
            "rotate-certificate", help="new key pair and certificate; tell every peer"
        )
        rotate.add_argument(
            "--grace-seconds",
            type=int,
            help="how long peers still accept the old certificate "
            f"(default {settings.PRIVPAD_NODE_ROTATION_GRACE_SECONDS}; 0 for a compromised key)",
        )
        rotate.add_argument(
            "--force", action="store_true", help="even if peers were not told of the last one"
        )
        notify = sub.add_parser("notify-rotation", help="tell peers of the last rotation again")
        notify.add_argument("--peer", action="append", dest="peers", help="only this peer")
        serve = sub.add_parser("serve", help="run the node service (Ctrl-C stops it)")
        serve.add_argument("--listen", help="host:port to bind (default: this node's address)")

    def handle(self, *args, action: str, **options) -> None:
        _require_migrated()
        if action != "init":
            self.check()
        try:
            getattr(self, f"do_{action.replace('-', '_')}")(**options)
        except (pairing.PairingError, inv.InvitationError, NodeCallError) as error:
            raise CommandError(str(error)) from None

    def do_init(self, name, address, display_name, force, **_) -> None:
        node = pairing.init_node(name, address, display_name=display_name, force=force)
        identity = pairing.require_identity()[0]
        self.stdout.write(f"Node {node.name} initialised; peers will call it at {node.address}.")
        self.stdout.write(f"Certificate fingerprint (SHA-256): {identity.fingerprint}")
        self.stdout.write(f"Certificate valid until {identity.expires_at:%Y-%m-%d}.")

    def do_show(self, **_) -> None:
        identity, me = pairing.require_identity()
        self.stdout.write(f"Node {me.name} at {me.address} ({settings.PRIVPAD_DEPLOYMENT} mode)")
        self.stdout.write(f"Fingerprint {identity.fingerprint}")
        self.stdout.write(_expiry_line("This node's certificate", identity.expires_at))
        states = rotation.peer_states()
        for route in PeerRoute.objects.select_related("node"):
            state = "enabled" if route.enabled else "DISABLED"
            measured = route.latency_ms is not None
            latency = f"{route.latency_ms} ms" if measured else "latency not measured yet"
            health = (
                f"{latency}, seen {route.last_seen_at:%Y-%m-%d %H:%M:%S}"
                if route.last_seen_at
                else "never seen"
            )
            if route.last_error:
                health += f"; last error: {render(route.last_error)}"
            self.stdout.write(f"  {route.node.name} {route.address} {state} {health}")
            self.stdout.write("    " + _expiry_line("certificate", route.certificate_expires_at))
            if note := _rotation_note(route.node.name, states.get(route.node.name)):
                self.stdout.write("    " + note)
            if route.previous_in_grace:
                self.stdout.write(
                    f"    rotated its certificate {route.certificate_rotated_at:%Y-%m-%d %H:%M}; "
                    f"the old one is accepted until {route.previous_valid_until:%Y-%m-%d %H:%M} UTC"
                )

    def do_invite(self, days, file, **_) -> None:
        if not 1 <= days <= pairing.INVITATION_DAYS:
            raise CommandError(
                f"--days must be from 1 to {pairing.INVITATION_DAYS}, not {days}: whoever "
                "holds an invitation can pair in the acceptor's place until it is used"
            )
        invitation, text = pairing.create_invitation(pairing.OPERATOR, days=days)
        if file:
            path = Path(file)
            path.write_text(text + "\n")
            path.chmod(0o600)
            self.stderr.write(f"Invitation written to {path}.")
        self.stderr.write(
            f"Invitation {invitation.public_id}, valid until "
            f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC, usable once; treat it as a password:"
        )
        self.stdout.write(text)

    def do_invitations(self, **_) -> None:
        for invitation in pairing.open_invitations():
            self.stdout.write(
                f"{invitation.public_id}  created {invitation.created_at:%Y-%m-%d %H:%M}  "
                f"expires {invitation.expires_at:%Y-%m-%d %H:%M} UTC"
            )

    def do_revoke(self, id, **_) -> None:
        invitation = Invitation.objects.filter(public_id=id).first()
        if invitation is None:
            raise CommandError(f"No invitation {id!r} was issued by this node.")
        pairing.revoke_invitation(pairing.OPERATOR, invitation)
        self.stdout.write(f"Invitation {id} revoked: it can no longer be used.")

    def do_accept(self, text, file, **_) -> None:
        if bool(text) == bool(file):
            raise CommandError("Give the invitation as TEXT or with --file, not both or neither.")
        if file:
            try:
                text = Path(file).read_text()[: inv.MAX_TEXT * 2]
            except OSError as error:
                raise CommandError(f"Cannot read {file}: {error.strerror}") from None
        route = pairing.accept_invitation(pairing.OPERATOR, text)
        self.stdout.write(
            f"Paired with {route.node.name} at {route.address} "
            f"(certificate {route.fingerprint[:16]}…, valid until "
            f"{route.certificate_expires_at:%Y-%m-%d})."
        )

    def do_health(self, peers, **_) -> None:
        routes = self._routes(peers)
        rotation.forget_expired()
        failures = 0
        for route in routes:
            try:
                pairing.check_health(route)
                self.stdout.write(
                    f"{route.node.name}: ok, {route.latency_ms} ms; "
                    + _expiry_line("certificate", route.certificate_expires_at)
                )
            except (NodeCallError, ValueError) as error:
                failures += 1
                self.stdout.write(f"{route.node.name}: {error}")
        if failures:
            raise CommandError(f"{failures} of {len(routes)} peer(s) did not answer.")

    def do_enable(self, peer, **_) -> None:
        pairing.set_route_enabled(pairing.OPERATOR, self._routes([peer])[0], True)
        self.stdout.write(f"Route to {peer} enabled.")

    def do_disable(self, peer, **_) -> None:
        pairing.set_route_enabled(pairing.OPERATOR, self._routes([peer])[0], False)
        self.stdout.write(f"Route to {peer} disabled: calls to and from it are refused.")

    def do_rotate_certificate(self, grace_seconds, force, **_) -> None:
        done = rotation.rotate_certificate(
            pairing.OPERATOR, grace_seconds=grace_seconds, force=force
        )
        self.stdout.write(f"New certificate {done.new_fingerprint} (was {done.old_fingerprint}).")
        self.stdout.write(
            f"Peers accept the old one until {done.grace_until:%Y-%m-%d %H:%M:%S} UTC."
        )
        self._report_notices(list(done.notices.select_related("route__node")))

    def do_notify_rotation(self, peers, **_) -> None:
        notices = rotation.notify_rotation(pairing.OPERATOR, peers)
        if not notices:
            self.stdout.write("Every peer has pinned this node's current certificate.")
            return
        self._report_notices(notices)

    def _report_notices(self, notices) -> None:
        untold = []
        for notice in notices:
            name = notice.route.node.name
            if notice.status == notice.Status.CONFIRMED:
                self.stdout.write(f"  {name}: pinned the new certificate")
            else:
                untold.append(name)
                self.stdout.write(f"  {name}: NOT TOLD: {render(notice.last_error)}")
        if untold:
            raise CommandError(
                f"{len(untold)} peer(s) must re-pair or be told again: "
                + ", ".join(f"`manage.py node notify-rotation --peer {name}`" for name in untold)
                + " (while the grace period lasts)."
            )

    def _routes(self, names: list[str]) -> list[PeerRoute]:
        routes = PeerRoute.objects.select_related("node")
        if not names:
            return list(routes)
        found = {route.node.name: route for route in routes.filter(node__name__in=names)}
        missing = [name for name in names if name not in found]
        if missing:
            raise CommandError(f"No route to {', '.join(missing)}: pair with it first.")
        return [found[name] for name in names]

    def do_serve(self, listen, **_) -> None:
        from console.nodes.link.health import HealthLoop
        from console.nodes.link.service import build_server
        from workflows.recovery import recover_interrupted_runs

        identity, me = pairing.require_identity()
        listen = listen or _bind_address(me.address)
        # The service executes this node's parts of other nodes' runs (`RunLaunch`): those a
        # previous service process left running when it died end interrupted, not stuck.
        recover_interrupted_runs()
        try:
            server = build_server(identity, listen)
        except (OSError, RuntimeError) as error:
            raise CommandError(f"Cannot listen on {listen} (port in use?): {error}") from None
        server.start()
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        loop = HealthLoop(settings.PRIVPAD_NODE_HEALTH_INTERVAL_SECONDS, stop)
        loop.start()
        self.stdout.write(f"Node {me.name} serving on {listen}, fingerprint {identity.fingerprint}")
        self.stdout.flush()
        stop.wait()
        server.stop(grace=2).wait()
        self.stdout.write("Node service stopped.")


def _require_migrated() -> None:
    """CommandError unless this installation's database is migrated (a new data directory
    has no tables yet: every action would fail with a database traceback)."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CommandError(
            "This installation's database is not migrated: run `manage.py migrate` first."
        )


def _expiry_line(what: str, expires_at) -> str:
    """`what` valid until when, with a warning under 30 days (then the owner must rotate it)."""
    days = (expires_at - timezone.now()).days
    line = f"{what} valid until {expires_at:%Y-%m-%d} ({days} days)"
    if days < EXPIRY_WARNING_DAYS:
        line += "; WARNING: expires soon, its node must run `manage.py node rotate-certificate`"
    return line


def _rotation_note(name: str, state: dict | None) -> str:
    if state is None or state["confirmed"]:
        return ""
    if state["can_retry"]:
        until = state["rotation"].grace_until
        return (
            f"not told of this node's new certificate: run `manage.py node notify-rotation "
            f"--peer {name}` before {until:%Y-%m-%d %H:%M} UTC, or pair again"
        )
    return "not told of this node's new certificate and the old key is gone: pair again"


def _bind_address(address: str) -> str:
    """Listen on every interface at the port of this node's address."""
    return f"[::]:{address.rpartition(':')[2]}"
