"""Bots: their stored profiles (the registry) and the sites allowed to embed them (origins)."""
