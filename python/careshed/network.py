"""Road networks: speed profiles, multi-source graph search, road graphs from OSM or line layers,
snapping points to the network, and the straight-line fallback.

Units: seconds for times, metres for distances, km/h for speeds.
"""
from . import _core

SpeedProfile = _core.SpeedProfile
parse_maxspeed = _core.parse_maxspeed


def graph_travel_time(n_nodes, tails, heads, seconds, sources, *, source_offsets=None, max_seconds=None,
                      reverse=False):
    """Seconds to the nearest source and that source's index, for every node of a directed graph.

    One multi-source Dijkstra over the edges ``tails[i] -> heads[i]`` costing ``seconds[i]`` (finite, >= 0).

    Parameters
    ----------
    n_nodes : int
        Number of nodes; ids are 0 .. n_nodes-1.
    tails, heads : 1-D integer arrays (int32 or int64 are used without copying)
    seconds : 1-D float array, seconds per edge
    sources : 1-D integer array of node ids (facilities). A node may appear twice.
    source_offsets : optional 1-D float array, seconds added at each source (dispatch, turnout).
    max_seconds : optional inclusive cutoff in seconds; nodes farther are unreachable.
    reverse : False for time FROM the sources (ambulance to patient), True for time TO them
        (patient to hospital); they differ on one-way streets.

    Returns
    -------
    (seconds, nearest) : float64 (n_nodes,) with ``inf`` where unreachable, int32 (n_nodes,) with the
    index into ``sources`` of the nearest source (ties -> lowest index) or -1.

    Raises careshed.InputError for out-of-range ids, negative/NaN/infinite costs, bad offsets or shapes.
    """
    return _core.graph_travel_time(n_nodes, tails, heads, seconds, sources, source_offsets=source_offsets,
                                   max_seconds=max_seconds, reverse=reverse)
