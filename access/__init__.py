"""Who can do what: the access proof of Tributary's generated policies."""
