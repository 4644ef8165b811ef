"""What an operator runs the site with: health and readiness for a load balancer,
metrics for Prometheus, backup and restore (docs/operations.md). It sits above the
apps and reads their tables for figures."""
