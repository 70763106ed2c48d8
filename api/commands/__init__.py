"""One module per group of `wht` commands: plain functions, registered in `api.cli`."""
