"""A cache of text embeddings keyed by (model, text), shared across clones."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["EmbeddingCache", "resolve_cache"]

_DB_NAME = "skquant_embeddings.sqlite"
_SQL_CHUNK = 500  # SQLite allows 999 bound parameters by default


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:20]


class EmbeddingCache:
    """Embeddings of texts, stored in memory and optionally on disk.

    Entries are keyed by a *model key* (which model produced the vector) and
    the exact text, so one cache can serve several models. A cache is meant to
    be shared: :func:`sklearn.base.clone` returns the same object (it defines
    ``__sklearn_clone__``), so every clone of a
    :class:`~skquant.text.SentenceEmbedder` made by ``GridSearchCV`` or
    ``cross_validate`` reads and fills the same entries, and each distinct text
    is encoded once per process.

    Parameters
    ----------
    directory : str or path-like, default=None
        If given, entries are also written to a SQLite file
        (``skquant_embeddings.sqlite``) in this directory, which is created if
        needed. A disk cache survives the process and is shared by the worker
        processes of ``n_jobs > 1`` searches; SQLite serialises their writes.
    memory : bool, default=True
        Keep entries in memory too. With ``memory=False`` and a ``directory``,
        every look-up reads the disk.

    Attributes
    ----------
    hits : int
        Number of texts found in the cache so far.
    misses : int
        Number of texts looked up and not found.

    Notes
    -----
    Vectors are stored as float32 exactly as the model returned them (before
    any normalisation the embedder applies). A pickled cache keeps its
    ``directory`` and drops its in-memory entries, so pickling an estimator
    that holds a cache stays small. Use :meth:`shared` for the process-wide
    in-memory cache that ``SentenceEmbedder(cache="memory")`` uses.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.text import EmbeddingCache
    >>> cache = EmbeddingCache()
    >>> cache.put("model-a", ["up", "down"], np.eye(2, dtype=np.float32))
    >>> found = cache.get("model-a", ["down", "flat"])
    >>> sorted(found), found["down"].tolist()
    (['down'], [0.0, 1.0])
    >>> cache.hits, cache.misses, len(cache)
    (1, 1, 2)
    """

    _shared: EmbeddingCache | None = None
    _on_disk: dict[str, EmbeddingCache] = {}
    _registry_lock = threading.Lock()

    def __init__(
        self, directory: str | os.PathLike | None = None, *, memory: bool = True
    ) -> None:
        self.directory = directory
        self.memory = memory
        self.hits = 0
        self.misses = 0
        self._entries: dict[str, dict[str, np.ndarray]] = {}
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._conn_pid: int | None = None

    @classmethod
    def shared(cls) -> EmbeddingCache:
        """Return the process-wide in-memory cache (``cache="memory"``).

        Returns
        -------
        EmbeddingCache
            The same object at every call within one process.
        """
        with cls._registry_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    @classmethod
    def for_directory(cls, directory: str | os.PathLike) -> EmbeddingCache:
        """Return the process-wide cache of one directory.

        Parameters
        ----------
        directory : str or path-like
            Where the SQLite file lives.

        Returns
        -------
        EmbeddingCache
            The same object for the same resolved directory within a process,
            so clones share its in-memory layer as well.
        """
        key = str(Path(directory).expanduser().resolve())
        with cls._registry_lock:
            if key not in cls._on_disk:
                cls._on_disk[key] = cls(key)
            return cls._on_disk[key]

    # -- sklearn / pickle protocol -------------------------------------------
    def __sklearn_clone__(self) -> EmbeddingCache:
        return self

    def __getstate__(self) -> dict:
        return {"directory": self.directory, "memory": self.memory}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["directory"], memory=state["memory"])

    def __repr__(self) -> str:
        where = f"directory={str(self.directory)!r}" if self.directory else ""
        return f"EmbeddingCache({where})"

    def __len__(self) -> int:
        """Number of entries held in memory."""
        return sum(len(v) for v in self._entries.values())

    # -- storage --------------------------------------------------------------
    def _db(self) -> sqlite3.Connection | None:
        if self.directory is None:
            return None
        if self._conn is None or self._conn_pid != os.getpid():
            path = Path(self.directory).expanduser()
            path.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                path / _DB_NAME, timeout=120, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, "
                "digest BLOB NOT NULL, vector BLOB NOT NULL, "
                "PRIMARY KEY (model, digest))"
            )
            conn.commit()
            self._conn, self._conn_pid = conn, os.getpid()
        return self._conn

    def get(self, model_key: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Look texts up.

        Parameters
        ----------
        model_key : str
            Identifies the model that produced the vectors.
        texts : sequence of str
            Distinct texts to look up.

        Returns
        -------
        dict of str to numpy.ndarray
            The texts found, with their float32 vectors.
        """
        found: dict[str, np.ndarray] = {}
        with self._lock:
            mem = self._entries.get(model_key, {}) if self.memory else {}
            todo = []
            for text in texts:
                vec = mem.get(text)
                if vec is None:
                    todo.append(text)
                else:
                    found[text] = vec
            db = self._db()
            if db is not None and todo:
                by_digest = {_digest(t): t for t in todo}
                digests = list(by_digest)
                for start in range(0, len(digests), _SQL_CHUNK):
                    chunk = digests[start : start + _SQL_CHUNK]
                    rows = db.execute(
                        "SELECT digest, vector FROM embeddings WHERE model = ? AND "
                        f"digest IN ({','.join('?' * len(chunk))})",
                        [model_key, *chunk],
                    ).fetchall()
                    for digest, blob in rows:
                        text = by_digest[bytes(digest)]
                        found[text] = np.frombuffer(blob, dtype=np.float32)
                if self.memory:
                    store = self._entries.setdefault(model_key, {})
                    for text in todo:
                        if text in found:
                            store[text] = found[text]
            self.hits += len(found)
            self.misses += len(texts) - len(found)
        return found

    def put(self, model_key: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors.

        Parameters
        ----------
        model_key : str
            Identifies the model that produced the vectors.
        texts : sequence of str
            The texts, one per row of ``vectors``.
        vectors : numpy.ndarray of shape (len(texts), dim)
            Their embeddings; stored as float32.
        """
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise ValueError("vectors must be 2-D with one row per text")
        with self._lock:
            if self.memory:
                store = self._entries.setdefault(model_key, {})
                for text, vec in zip(texts, vectors, strict=True):
                    store[text] = vec.copy()
            db = self._db()
            if db is not None:
                db.executemany(
                    "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                    [
                        (model_key, _digest(t), v.tobytes())
                        for t, v in zip(texts, vectors, strict=True)
                    ],
                )
                db.commit()

    def clear(self) -> None:
        """Forget every entry, in memory and on disk, and reset the counters."""
        with self._lock:
            self._entries.clear()
            db = self._db()
            if db is not None:
                db.execute("DELETE FROM embeddings")
                db.commit()
            self.hits = self.misses = 0


def resolve_cache(cache) -> EmbeddingCache | None:
    """Turn a ``cache`` parameter into an :class:`EmbeddingCache` (or None).

    Parameters
    ----------
    cache : None, "memory", str, path-like or EmbeddingCache
        ``None``: no cache. ``"memory"``: :meth:`EmbeddingCache.shared`. Any
        other string or path: :meth:`EmbeddingCache.for_directory`. An
        :class:`EmbeddingCache`: itself.

    Returns
    -------
    EmbeddingCache or None
    """
    if cache is None:
        return None
    if isinstance(cache, EmbeddingCache):
        return cache
    if isinstance(cache, str) and cache == "memory":
        return EmbeddingCache.shared()
    if isinstance(cache, (str, os.PathLike)):
        return EmbeddingCache.for_directory(cache)
    raise TypeError(
        "cache must be None, 'memory', a directory or an EmbeddingCache; "
        f"got {type(cache).__name__}"
    )
