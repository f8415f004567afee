"""Day-two tools: cost, query, failures and redrive for the tenants a stack deploys."""
