"""What the routes compute over the backend: resource descriptions, ontology docs, the overview,
the service description, source texts, one query.
"""
