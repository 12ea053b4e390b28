"""Where deployments come from: a Pulumi program rendered offline (program.py) or a stack export (state.py)."""
