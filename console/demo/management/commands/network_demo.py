"""`manage.py network_demo STEP [STEP...] --user USER`: steps of the demo at this node (network
mode), in the order given.

The steps are `console.demo.network`'s; `make network` runs them at alice, bob and carol in
turn (`console.nodes.devnet.load_demo`). Each step is safe to run again.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from console.demo.network import STEP_FUNCTIONS, DemoStepError, run_step


class Command(BaseCommand):
    help = "Run steps of the demo at this node of a network deployment (safe to repeat)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("steps", nargs="+", choices=sorted(STEP_FUNCTIONS), metavar="STEP")
        parser.add_argument("--user", required=True, help="a node admin of this node")

    def handle(self, *args, steps: list[str], user: str, **options) -> None:
        if settings.PRIVPAD_DEPLOYMENT != "network":
            raise CommandError(
                "network_demo loads the demo across network nodes (PRIVPAD_DEPLOYMENT=network); "
                "for one embedded console use `manage.py bootstrap_demo`"
            )
        for step in steps:
            try:
                self.stdout.write(run_step(step, user))
            except DemoStepError as error:
                raise CommandError(str(error)) from None
