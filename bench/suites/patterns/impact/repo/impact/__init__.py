from impact.affected import affected, retest_plan
from impact.graph import importers_of, parse_imports

__all__ = ["parse_imports", "importers_of", "affected", "retest_plan"]
