"""The parties: the cloud, POS and phone machines, the outbox that re-sends, the store
interface, the receipt lifecycle table, authentication and the gatekeeper."""
