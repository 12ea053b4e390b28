"""Component resources of the DPA estate, one module per part of the platform."""
