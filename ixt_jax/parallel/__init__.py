"""Device meshes, the logical-axis rules table, and multi-host start-up."""
