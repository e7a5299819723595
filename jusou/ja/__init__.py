"""Japanese: 和暦 and text normalised for search."""
