"""The built dataset on disk: its versions and how one is published, the Oxigraph database, the
version served.
"""
