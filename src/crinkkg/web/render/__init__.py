"""Rendering: RDF documents for linked data, SVG diagrams."""
