"""Versioned reference data files. A released file is never edited: a change is a new file and a new migration."""
