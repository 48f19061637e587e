"""pytest plugin: the ``devmail`` fixture (filled in by the devmail work)."""
