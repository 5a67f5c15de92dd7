"""Pure picking algorithms: allocation strategy, batching, waves and pick-path sequencing."""
