from depgraph.loader import load
from depgraph.model import Edge, Graph
from depgraph.queries import dependencies, dependents, roots

__all__ = ["Edge", "Graph", "load", "dependencies", "dependents", "roots"]
