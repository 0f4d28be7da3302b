"""Build steps (ingest → data → train → prompt → eval): each hashes its inputs and runs only when they changed."""
