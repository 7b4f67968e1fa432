"""What every qaport package shares: the CLI boundary (qaport.boundary)."""
