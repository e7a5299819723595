"""Staff accounts: roles, login, two-factor authentication, memberships of agencies, API clients."""
