"""The health loop of `manage.py node serve`: pings every enabled peer at an interval.

Each round (the first one interval after the service starts) also deletes a rotated-away key
whose grace period is over (`rotation.forget_expired`) and runs the other apps' periodic work
(`AFTER_HEALTH_CHECKS`: the federation re-sends the messages a peer could not take).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.db import close_old_connections

from console.nodes.link.envelope import EnvelopeError
from console.nodes.link.transport import NodeCallError

logger = logging.getLogger(__name__)
# Work other apps do at every health interval (federation: re-send undelivered messages).
AFTER_HEALTH_CHECKS: list[Callable[[], None]] = []


class HealthLoop(threading.Thread):
    def __init__(self, interval: float, stop: threading.Event):
        super().__init__(name="privpad-node-health", daemon=True)
        self.interval, self.stop = interval, stop

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.check_all()

    def check_all(self) -> None:
        from console.nodes.models import PeerRoute
        from console.nodes.pairing import check_health
        from console.nodes.rotation import forget_expired

        close_old_connections()
        forget_expired()
        for route in PeerRoute.objects.select_related("node").filter(enabled=True):
            try:
                check_health(route)
            except (NodeCallError, EnvelopeError) as error:
                logger.warning("health check: %s", error)
        for task in AFTER_HEALTH_CHECKS:
            try:
                task()
            except Exception:  # noqa: BLE001 - one failing task must not stop the loop
                logger.exception("periodic node task %s failed", task.__name__)
