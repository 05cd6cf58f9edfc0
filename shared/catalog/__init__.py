"""The retailer's catalog: products and offers (models, Cosmos store, importer, in-memory cache)."""
