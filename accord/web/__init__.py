"""The reply app (FastAPI): members answer a round from the link in their mail."""
