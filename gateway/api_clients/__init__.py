"""API clients: machine callers that trade a client id and secret for a short-lived bearer token
(OAuth 2.0 client credentials, RFC 6749 §4.4) at ``POST /oauth/token``."""
