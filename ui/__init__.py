"""Streamlit domain assistant: talks to the REST API only (ui.client), stores chat feedback (ui.feedback)."""
