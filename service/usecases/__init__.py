"""Use-cases: each takes a request Struct whole, resolves it against loaded models (naming the request
field of any domain error), calls the geometry, and builds response Structs. One module per subject."""
