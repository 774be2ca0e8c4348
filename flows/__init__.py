"""Prefect flows and tasks: they order accord's services, retry, report and announce.

Between the CLI and the services (import-linter layers). This package imports nothing, so
`flows.launch` and `flows.deployments` can be imported without importing Prefect.
"""
