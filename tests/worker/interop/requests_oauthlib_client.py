"""Fetches a token from the broker as a Python service would: requests-oauthlib's
BackendApplicationClient (client credentials) with requests' HTTPBasicAuth, which sends the
caller id and key as they are (not form-encoded). Prints the token response as JSON.

Usage: requests_oauthlib_client.py <token url> <scope>; CALLER_ID and CALLER_KEY in the
environment (so the key is not on a command line).
"""
import json
import os
import sys

from oauthlib.oauth2 import BackendApplicationClient
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

# The broker under test listens on http://127.0.0.1; oauthlib refuses plain http otherwise.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

token_url, scope = sys.argv[1], sys.argv[2]
caller_id, key = os.environ["CALLER_ID"], os.environ["CALLER_KEY"]
session = OAuth2Session(client=BackendApplicationClient(client_id=caller_id))
token = session.fetch_token(token_url=token_url, scope=[scope], auth=HTTPBasicAuth(caller_id, key), timeout=30)
print(json.dumps({"access_token": token["access_token"], "token_type": token["token_type"], "cache": token.get("cache")}))
