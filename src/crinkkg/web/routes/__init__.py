"""The blueprints: SPARQL endpoint, Graph Store, dereferenceable resources, pages, operations."""
