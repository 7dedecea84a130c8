"""Who may do what: htpasswd accounts (bcrypt), access rules, signed bearer tokens, and the gate
that checks each request (anonymous, Basic, or Bearer with Docker's token challenge)."""
