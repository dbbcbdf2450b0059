"""`manage.py node ...`: this installation's node identity, pairing, routes and service.

node init --name alice --address alice.example.org:7443 [--display-name ...] [--force]
node show                      this node, its fingerprint and its routes with health
node invite [--days 7] [--file PATH]
node invitations | node revoke ID   open invitations; close one at once
node accept TEXT | --file PATH
node health [PEER ...]         ping peers now (latency, last seen)
node disable PEER | node enable PEER
node serve [--listen HOST:PORT]
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from console.nodes import invitations as inv
from console.nodes import pairing
from console.nodes.link.transport import NodeCallError
from console.nodes.models import Invitation, PeerRoute


class Command(BaseCommand):
    help = "This node's identity, pairing with other nodes, routes, and the node service."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        init = sub.add_parser("init", help="create this node's key pair and certificate")
        init.add_argument("--name", required=True)
        init.add_argument("--address", required=True, help="host:port peers call")
        init.add_argument("--display-name", default="")
        init.add_argument("--force", action="store_true", help="replace an existing identity")
        sub.add_parser("show", help="this node and its routes")
        invite = sub.add_parser("invite", help="create a pairing invitation")
        invite.add_argument("--days", type=int, default=pairing.INVITATION_DAYS)
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
        serve = sub.add_parser("serve", help="run the node service (Ctrl-C stops it)")
        serve.add_argument("--listen", help="host:port to bind (default: this node's address)")

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, f"do_{action}")(**options)
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
        for route in PeerRoute.objects.select_related("node"):
            state = "enabled" if route.enabled else "DISABLED"
            health = (
                f"{route.latency_ms} ms, seen {route.last_seen_at:%Y-%m-%d %H:%M:%S}"
                if route.last_seen_at
                else "never seen"
            )
            if route.last_error:
                health += f"; last error: {route.last_error}"
            self.stdout.write(f"  {route.node.name} {route.address} {state} {health}")

    def do_invite(self, days, file, **_) -> None:
        if days < 1:
            raise CommandError("--days must be at least 1")
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
        failures = 0
        for route in routes:
            try:
                pairing.check_health(route)
                self.stdout.write(f"{route.node.name}: ok, {route.latency_ms} ms")
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

        identity, me = pairing.require_identity()
        listen = listen or _bind_address(me.address)
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


def _bind_address(address: str) -> str:
    """Listen on every interface at the port of this node's address."""
    return f"[::]:{address.rpartition(':')[2]}"
