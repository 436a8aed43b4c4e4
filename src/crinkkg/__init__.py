"""crinkkg: the CRINK knowledge graph, built with OWL 2 RL and served as SPARQL 1.1 and linked data."""

__version__ = "0.1.0"
