"""Use-cases: plain functions over a unit of work, called by the CLI, the web app and the flows."""
