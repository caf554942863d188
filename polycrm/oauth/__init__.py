"""OAuth apps for the Cirrus API: registered clients, the authorization code
grant with PKCE, refresh tokens, introspection and revocation.

:mod:`polycrm.oauth.models` holds the tables, :mod:`polycrm.oauth.service`
every rule, :mod:`polycrm.oauth.endpoints` the wire (RFC 6749 JSON errors) and
:mod:`polycrm.oauth.pages` the consent and management pages. See the
"OAuth apps" section of docs/integrations.md.
"""
