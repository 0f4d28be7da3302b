"""The bottom layer: domain spec, settings, errors, model provisioning and loading, manifest, text, safety.

Imports no other package of ours (a test enforces it)."""
