"""One module per group of `wht` commands; each defines `register(cli: typer.Typer)`."""
