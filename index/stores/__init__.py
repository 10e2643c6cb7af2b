"""Where the index lives: ``open_store`` picks the backend the settings name.

>>> store = open_store(IndexSettings())  # doctest: +SKIP
"""

from __future__ import annotations

from index.settings import IndexSettings
from index.stores.base import IndexStore

__all__ = ["open_store"]


def open_store(settings: IndexSettings) -> IndexStore:
    """PostgreSQL when DATABASE_URL is set, else the embedded store in DATA_DIR."""
    if settings.database_url is not None:
        from index.stores.postgres import PostgresStore  # psycopg only when asked for

        return PostgresStore(settings.database_url.get_secret_value(), settings.database_pool_size)
    from index.stores.embedded import EmbeddedStore

    return EmbeddedStore(settings.data_dir, settings.approximate_above)
