"""paperlink: MOJ notices about foreign residents, carried by line, media or paper into the resident register."""

__version__ = "0.1.0"
