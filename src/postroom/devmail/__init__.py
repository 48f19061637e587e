"""The built-in development mail server (filled in by the devmail work)."""
