"""HTTP API blueprints, one per area: root (/), ops (/health, /metrics), v1 (/api/v1/...)."""
