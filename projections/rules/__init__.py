"""One module per clause family of policy 481; each function cites its clauses."""
