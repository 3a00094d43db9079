"""The REST API: request/response models (models), route logic without Lambda (service), resolver (routes)."""
