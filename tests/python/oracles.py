"""Reference algorithms written for the tests, independent of careshed (never its code)."""
from __future__ import annotations

import heapq
import math

import numpy as np


def dijkstra(friction, sources, offsets, cell):
    """Multi-source Dijkstra with the GRASS r.cost rule (8 neighbours): per-source runs, then the minimum time
    per cell (lowest source on ties). Float64; independent of careshed."""
    rows, cols = friction.shape
    best = np.full((len(sources), rows, cols), np.inf)
    for k, (sr, sc) in enumerate(sources):
        dist = best[k]
        dist[sr, sc] = offsets[k]
        heap = [(offsets[k], sr, sc)]
        while heap:
            d, r, c = heapq.heappop(heap)
            if d > dist[r, c]:
                continue
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    if dr == dc == 0:
                        continue
                    rr, cc = r + dr, c + dc
                    if not (0 <= rr < rows and 0 <= cc < cols) or not np.isfinite(friction[rr, cc]):
                        continue
                    nd = d + math.hypot(dr, dc) * cell * (friction[r, c] + friction[rr, cc]) / 2
                    if nd < dist[rr, cc]:
                        dist[rr, cc] = nd
                        heapq.heappush(heap, (nd, rr, cc))
    return best
