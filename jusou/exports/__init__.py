"""Files that leave the system: CSV/xlsx writers, export jobs run by the worker, their pages."""
