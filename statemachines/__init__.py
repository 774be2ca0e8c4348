"""The pure domain: states, transitions, rules and timeframes (stdlib + transitions only)."""
