"""The embedded backend: the local store, queried by killable worker processes (or in-process for
the CLI).
"""
