"""Scripts that measure GridBot's speed and print figures (see README.md here)."""
