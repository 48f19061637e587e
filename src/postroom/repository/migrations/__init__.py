"""Alembic migrations of the Postroom repository.

A regular package (not loose data files) so that a non-editable install ships ``env.py``
and every revision. :mod:`postroom.repository._migrate` runs them on open; no alembic.ini
is needed. To add a revision, write ``versions/NNNN_what.py`` by hand (``down_revision`` =
the previous one) and bump ``HEAD`` in ``_migrate.py``; a test checks the two agree.
"""
