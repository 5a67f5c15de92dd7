"""The warehouse domain: inventory ledger, orders, people and devices, and the use cases on them."""
