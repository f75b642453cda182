"""HTTP routes: one module per resource. Handlers decode, call `service.usecases`, encode."""
