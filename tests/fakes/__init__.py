"""In-memory test doubles behind the same interfaces as the real parts (see each module)."""
