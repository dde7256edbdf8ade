#!/usr/bin/env python3
"""A departmental site signing a person in with Yitong, step by step, with Authlib.

Debian: apt-get install python3-authlib python3-requests

    YITONG_ISSUER=http://localhost:3000 CLIENT_ID=... CLIENT_SECRET=... \\
    REDIRECT_URI=<one of its redirect_uris> python3 clients/samples/python/sign_in.py

It prints the authorization URL: open it in a browser and sign in. The browser is then sent to
REDIRECT_URI (nothing needs to answer there): paste that address back. A real site does the same
in two routes (one redirects to the authorization URL, its callback does steps 4-6) and keeps the
verifier, state and nonce in the person's session in between.

Optional: SCOPE (default "openid profile phone offline_access"), POST_LOGOUT_REDIRECT_URI.
Prints JSON: the ID token's claims, UserInfo, the token lifetimes and the logout URL.
"""
import json
import os
import sys
from urllib.parse import parse_qs, urlencode, urlparse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.oidc.core import CodeIDToken

issuer = os.environ["YITONG_ISSUER"]
client_id = os.environ["CLIENT_ID"]
scope = os.environ.get("SCOPE", "openid profile phone offline_access")

# 1. Discovery: every endpoint comes from <issuer>/.well-known/openid-configuration.
metadata = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
if metadata["issuer"] != issuer:
    sys.exit("the discovery document names another issuer")
session = OAuth2Session(
    client_id,
    os.environ["CLIENT_SECRET"],  # sent as HTTP Basic (client_secret_basic)
    scope=scope,
    redirect_uri=os.environ["REDIRECT_URI"],
    code_challenge_method="S256",
)

# 2. The authorization request: PKCE is required; state defeats cross-site requests and nonce ties
#    the ID token to this request. prompt=consent: without it offline_access is dropped and no
#    refresh token is issued.
verifier = generate_token(48)
nonce = generate_token(24)
extra = {"prompt": "consent"} if "offline_access" in scope.split() else {}
url, state = session.create_authorization_url(
    metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra
)
print(url, flush=True)

# 3. The callback: the address the browser was sent back to, with code, state and iss.
print("Sign in, then paste the address the browser was sent to:", file=sys.stderr)
callback = sys.stdin.readline().strip()
answer = parse_qs(urlparse(callback).query)
if "error" in answer:  # access_denied, login_required ... (see the developer page)
    sys.exit(f"Yitong answered {answer['error'][0]}: {answer.get('error_description', [''])[0]}")
# RFC 9207: the response names its issuer, so a response from another provider is refused.
if answer.get("iss") != [metadata["issuer"]]:
    sys.exit("the authorization response comes from another issuer")

# 4. Exchange the code (Authlib checks state) and verify the ID token: ES256 signature from the
#    JWKS, issuer, audience, nonce, expiry and at_hash.
token = session.fetch_token(
    metadata["token_endpoint"], authorization_response=callback, state=state, code_verifier=verifier
)
keys = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
id_token = JsonWebToken(["ES256"]).decode(
    token["id_token"],
    keys,
    claims_cls=CodeIDToken,
    claims_options={"iss": {"essential": True, "value": metadata["issuer"]}},
    claims_params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
)
id_token.validate(leeway=30)
# sub, acr, amr, auth_time (and sid when the site registers backchannel_logout_session_required).

# 5. UserInfo has the rest (name, phone_number ...); its sub must be the ID token's.
response = session.get(metadata["userinfo_endpoint"], timeout=10)
response.raise_for_status()  # 401 invalid_token: expired, or the person's sign-in ended
userinfo = response.json()
if userinfo["sub"] != id_token["sub"]:
    sys.exit("UserInfo is about someone else")

# 6. Refresh before the access token expires: each refresh token works once, the response carries
#    its successor (reusing an old one revokes the whole grant).
refreshed = (
    session.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    if "refresh_token" in token
    else None
)

# 7. Signing out: send the browser here; Yitong asks the person, ends the session, tells every site
#    of it (back-channel logout) and returns to POST_LOGOUT_REDIRECT_URI if registered.
#    The ID token names the site and the person (an expired one will do).
logout = {"id_token_hint": token["id_token"], "state": generate_token()}
if os.environ.get("POST_LOGOUT_REDIRECT_URI"):
    logout["post_logout_redirect_uri"] = os.environ["POST_LOGOUT_REDIRECT_URI"]
logout_url = f"{metadata['end_session_endpoint']}?{urlencode(logout)}"

print(
    json.dumps(
        {
            "id_token_claims": dict(id_token),
            "userinfo": userinfo,
            "expires_in": token["expires_in"],
            "refreshed_expires_in": refreshed and refreshed["expires_in"],
            "logout_url": logout_url,
        },
        ensure_ascii=False,
        indent=2,
    )
)
