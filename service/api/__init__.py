"""HTTP routes: one module per resource. Handlers decode, call `service.queries` or
`service.analyses`, encode."""
