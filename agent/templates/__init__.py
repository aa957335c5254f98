"""Repair templates from the program-repair literature, applied at `ast` positions.

Each template looks at the syntax nodes on one suspicious line of one file and proposes
source-level rewrites of a node's exact span (byte offsets from `ast` positions), so the rest
of the file keeps its formatting and comments. Every candidate is re-parsed and dropped if it
does not parse; identical results are deduplicated. The templates follow the mutation
families of GenProg/PraPR/TBar and the Python bug studies (PyPIBugs, ManySStuBs): operator
swaps, off-by-one, negated or dropped conditions, wrong variable, swapped arguments, missing
or misplaced return, wrong constant, statement deletion/insertion, changed call, wrong default.

Modules: code (what a template works with), classic and patterns (the templates),
registry (which template applies to which nodes, their priors, and `generate`).
"""
from ouro.agent.templates.code import Candidate, name_similarity
from ouro.agent.templates.registry import PRIORS, TEMPLATES, generate, parses, spread_prior, variant_counts

__all__ = ["Candidate", "PRIORS", "TEMPLATES", "generate", "name_similarity", "parses", "spread_prior",
           "variant_counts"]
