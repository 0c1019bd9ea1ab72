"""Staff administration: accounts and role grants by department, bulk import, the password
policy and the TOTP second factor. Plain functions on a database session; no Flask."""
