"""The server's head start: every journey's living map drawn before anyone asks for it.

A cold first map at 10M events cost 7.3 s of CPU, 1.3 s of it importing the analyses and
loading numba's kernels, the rest reading the stored milestone log and measuring it (issue 22,
target 5). So ``journeykit serve`` draws each journey's map (the default view, the one a visit
opens) in a background thread when it starts, and again whenever the data changed (an import
from the CLI or the app) and the database has held still for a poll. A visit during that work
waits for it (``Data.cached`` computes each key once) instead of starting it again; a visit
after it is answered from the cache. The thread only reads, through the same ``Data`` a request
uses, so it holds the database file no longer than one request would.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from typing import TYPE_CHECKING

from journeykit.errors import JourneykitError

if TYPE_CHECKING:
    from journeykit.web.app import Context

POLL = 1.0  # seconds between looks at the database file (a stat, no query)


def warm_maps(ctx: Context) -> int:
    """Draw the default map of every journey that validates and whose milestone log the
    workspace keeps up to date; how many were drawn. A journey without one (its rules changed
    since the last import) is left to its first visit: tagging every event would hold the
    database file for seconds (8-12 s at 10M events), and an import meanwhile would wait for
    it, or give up as busy, without anyone having asked for the map."""
    from journeykit.engine.maplog import has_current_log
    from journeykit.web import views
    from journeykit.web.app import make_filters
    from journeykit.web.data import db_alias

    drawn = 0
    for key in ctx.journeys.names():
        try:
            rev, journey = ctx.journey(key)
            with ctx.data.engine() as eng:
                alias = db_alias(eng)
                if alias is None or not has_current_log(eng, alias, journey):
                    continue
            views.map_svg(ctx, rev, journey, make_filters(journey, *[None] * 5))
        except JourneykitError:
            continue  # an invalid journey or a busy file: the visit will say so
        drawn += 1
    return drawn


class Warmer:
    """The background thread: warm at start, then after every change of the data."""

    def __init__(self, ctx: Context, *, poll: float = POLL, announce: bool = True) -> None:
        self.ctx = ctx
        self.poll = poll
        self.announce = announce
        self.ready = threading.Event()  # set after the first round
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="journeykit-warm", daemon=True)

    def start(self) -> Warmer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _round(self) -> None:
        t = time.perf_counter()
        try:
            drawn = warm_maps(self.ctx)
        except Exception:  # our bug: said, and the next change tries again; visits still work
            traceback.print_exc()
            return
        if self.announce:
            took = time.perf_counter() - t
            print(f"journeykit: {drawn} map(s) ready ({took:.1f} s)", file=sys.stderr, flush=True)

    def _loop(self) -> None:
        data = self.ctx.data
        try:
            self._round()
        finally:
            self.ready.set()
        seen = data._signature()
        drawn_at = seen
        while not self._stop.wait(self.poll):
            now = data._signature()
            # Changed, then still for one poll: an import is over, not half written.
            if now == seen and now != drawn_at:
                self._round()
                drawn_at = data._signature()
            seen = now
