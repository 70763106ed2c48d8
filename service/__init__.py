"""The service layer: the Tracker application and every use case, storage, the read model."""
