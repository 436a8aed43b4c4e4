"""Where the data is read and written: the backend contract and its implementations.

``open_backend(settings)`` gives the embedded store or a remote SPARQL 1.1 store, by
``settings.backend``; everything above this package (the web layer, the command line)
sees only :class:`~crinkkg.backends.contract.Backend`.
"""

from __future__ import annotations

from crinkkg.backends.contract import Backend, ProcessShare, Reply
from crinkkg.settings import Settings

__all__ = ["Backend", "ProcessShare", "Reply", "open_backend"]


def open_backend(settings: Settings, *, start: bool = True) -> Backend:
    """The backend ``settings`` asks for; ``start=False`` leaves :meth:`Backend.start` to
    the caller (the server starts the workers while the app is being made)."""
    if settings.backend:
        from crinkkg.backends.remote import RemoteBackend  # requests: only when asked

        remote = RemoteBackend(settings)
        if start:
            remote.start()
        return remote
    from crinkkg.backends.embedded.backend import EmbeddedBackend

    return EmbeddedBackend(settings, start=start)
