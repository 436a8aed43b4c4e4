"""crinkkg: the CRINK knowledge graph, reasoned with OWL 2 RL, served as SPARQL and linked data."""

__version__ = "0.1.0"
