"""routes: weighted graphs and shortest paths."""
from .dijkstra import dijkstra, reconstruct
from .graph import Graph
from .io import dump_edges, load_edges
from .paths import NoPath, Path, all_distances, shortest_path

__all__ = ["dijkstra", "reconstruct", "Graph", "dump_edges", "load_edges", "NoPath", "Path",
           "all_distances", "shortest_path"]
