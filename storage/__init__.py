"""Persistence: tables, classical mapping, repositories, the unit of work and migrations."""
