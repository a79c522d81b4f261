"""MSAL Python, unmodified, against `mock-entra --tls`.

The only settings that differ from real Entra: `verify=<the mock's CA>` and
`instance_discovery=False` (the mock is not a Microsoft host). Usage:

    python check_msal.py SETTINGS_JSON

where SETTINGS_JSON is what `mock-entra serve --tls --json` printed.
Prints one line per check and `N passed, N failed`; exits 1 on a failure.
"""

import json
import socket
import sys
import traceback
import urllib.parse

import msal
import requests

GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]
ALICE = "alice@contoso.example"

with open(sys.argv[1], encoding="utf-8") as f:
    SETTINGS = json.loads(f.readline())
CA = SETTINGS["ca_file"]
AUTHORITY = SETTINGS["authority"]
HTTP = requests.Session()
HTTP.verify = CA


def control(method, path, body=None):
    """Calls the mock's control API."""
    r = HTTP.request(method, SETTINGS["control"] + path, json=body, timeout=30)
    if r.status_code != 200:
        raise AssertionError(f"{method} {path}: {r.status_code} {r.text}")
    return r.json()


def token_requests():
    return control("GET", "/requests?path_suffix=/token")["requests"]


def mint_for(api_client_id, user=ALICE):
    """An access token of `user` for the API: what an API receives from its callers."""
    return control("POST", "/tokens", {"user": user, "api": api_client_id})["token"]


def confidential(client_id, credential):
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=credential,
        authority=AUTHORITY,
        verify=CA,
        instance_discovery=False,
    )


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def obo_then_silent(app, assertion, credential_form_field):
    """On-behalf-of for Graph `.default`, then the account and a silent cache hit."""
    control("DELETE", "/requests")
    r = app.acquire_token_on_behalf_of(assertion, GRAPH_DEFAULT)
    expect("access_token" in r, f"OBO failed: {r.get('error')} {r.get('error_description')}")
    expect(r.get("token_source") == "identity_provider", r.get("token_source"))
    expect(r["id_token_claims"]["preferred_username"] == ALICE, r.get("id_token_claims"))
    sent = token_requests()[-1]
    form = dict(sent["form"])
    expect(form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer", form)
    expect(form["requested_token_use"] == "on_behalf_of", form)
    expect(credential_form_field in form, f"{credential_form_field} not sent: {sorted(form)}")
    accounts = app.get_accounts()
    expect(len(accounts) == 1, f"accounts after OBO: {accounts}")
    expect(accounts[0]["username"] == ALICE, accounts[0])
    silent = app.acquire_token_silent(GRAPH_DEFAULT, account=accounts[0])
    expect(silent is not None, "acquire_token_silent found nothing")
    expect(silent.get("token_source") == "cache", f"silent came from {silent.get('token_source')}")
    expect(silent["access_token"] == r["access_token"], "silent returned another token")
    # The token works at the mock's Microsoft Graph.
    me = HTTP.get(
        SETTINGS["graph"] + "/v1.0/me",
        headers={"Authorization": "Bearer " + r["access_token"]},
        timeout=30,
    )
    expect(me.status_code == 200 and me.json()["userPrincipalName"] == ALICE, me.text)
    return r


def check_obo_with_secret():
    api = SETTINGS["api"]
    app = confidential(api["client_id"], api["client_secret"])
    obo_then_silent(app, mint_for(api["client_id"]), "client_secret")


def register_cert_api(name):
    app = control("POST", "/apps", {"name": name, "certificate": True, "scopes": ["access_as_user"]})
    control(
        "POST",
        "/consents",
        {"client_id": app["client_id"], "resource": "https://graph.microsoft.com", "scopes": ["User.Read"]},
    )
    return app


def check_obo_with_certificate():
    # MSAL signs PS256 with x5t#S256 when it has the certificate itself.
    app = register_cert_api("msal-cert-api")
    cert = app["certificate"]
    msal_app = confidential(
        app["client_id"], {"private_key": cert["key_pem"], "public_certificate": cert["cert_pem"]}
    )
    obo_then_silent(msal_app, mint_for(app["client_id"]), "client_assertion")


def check_obo_with_certificate_thumbprint():
    # With a SHA-1 thumbprint only, MSAL signs RS256 with x5t (the legacy form).
    app = register_cert_api("msal-thumbprint-api")
    cert = app["certificate"]
    msal_app = confidential(
        app["client_id"],
        {"private_key": cert["key_pem"], "thumbprint": cert["thumbprint_sha1_hex"]},
    )
    obo_then_silent(msal_app, mint_for(app["client_id"]), "client_assertion")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_public_client_auth_code_pkce():
    public = SETTINGS["public_client"]
    scopes = SETTINGS["api"]["scopes"]
    app = msal.PublicClientApplication(
        public["client_id"], authority=AUTHORITY, verify=CA, instance_discovery=False
    )
    # The registered redirect URI is http://localhost: any port matches, as in Entra.
    redirect = f"http://localhost:{free_port()}"
    flow = app.initiate_auth_code_flow(scopes, redirect_uri=redirect, login_hint=ALICE)
    expect("code_challenge=" in flow["auth_uri"], "MSAL sent no PKCE challenge")
    # The browser's part: login_hint signs Alice in without the account page.
    r = HTTP.get(flow["auth_uri"], allow_redirects=False, timeout=30)
    expect(r.status_code == 302, f"authorize answered {r.status_code}: {r.text[:300]}")
    location = r.headers["location"]
    expect(location.startswith(redirect + "?"), location)
    auth_response = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    expect("client_info" in auth_response, f"no client_info in {sorted(auth_response)}")
    control("DELETE", "/requests")
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    expect("access_token" in result, f"{result.get('error')}: {result.get('error_description')}")
    claims = result["id_token_claims"]
    expect(claims["preferred_username"] == ALICE, claims)
    expect(claims.get("sid") and claims.get("login_hint"), f"no sid/login_hint: {sorted(claims)}")
    form = dict(token_requests()[-1]["form"])
    expect(form.get("code_verifier") and "client_secret" not in form, sorted(form))
    accounts = app.get_accounts(username=ALICE)
    expect(len(accounts) == 1, accounts)
    silent = app.acquire_token_silent(scopes, account=accounts[0])
    expect(silent and silent.get("token_source") == "cache", silent)
    # A wrong verifier is refused, as Entra does (AADSTS501481).
    flow = app.initiate_auth_code_flow(scopes, redirect_uri=redirect, login_hint=ALICE)
    r = HTTP.get(flow["auth_uri"], allow_redirects=False, timeout=30)
    auth_response = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["location"]).query))
    flow["code_verifier"] = "x" * 43
    bad = app.acquire_token_by_auth_code_flow(flow, auth_response)
    expect(501481 in bad.get("error_codes", []), bad)


def check_wrong_secret():
    api = SETTINGS["api"]
    app = confidential(api["client_id"], "not-the-secret")
    r = app.acquire_token_on_behalf_of(mint_for(api["client_id"]), GRAPH_DEFAULT)
    expect(r.get("error") == "invalid_client", r)
    expect(7000215 in r.get("error_codes", []), r)
    expect(r.get("error_description", "").startswith("AADSTS7000215:"), r)


def check_injected_claims_challenge():
    api = SETTINGS["api"]
    claims = {"access_token": {"acrs": {"essential": True, "value": "c1"}}}
    control("POST", "/faults", {"aadsts": 50076, "claims": claims})
    app = confidential(api["client_id"], api["client_secret"])
    r = app.acquire_token_on_behalf_of(mint_for(api["client_id"]), GRAPH_DEFAULT)
    expect(r.get("error") == "invalid_grant" and 50076 in r.get("error_codes", []), r)
    expect(json.loads(r["claims"]) == claims, r.get("claims"))
    # The next request succeeds again.
    r = app.acquire_token_on_behalf_of(mint_for(api["client_id"]), GRAPH_DEFAULT)
    expect("access_token" in r, r)


CHECKS = [
    check_obo_with_secret,
    check_obo_with_certificate,
    check_obo_with_certificate_thumbprint,
    check_public_client_auth_code_pkce,
    check_wrong_secret,
    check_injected_claims_challenge,
]


def main():
    print(f"msal {msal.__version__} against {SETTINGS['uri']}")
    passed = failed = 0
    for check in CHECKS:
        try:
            check()
            passed += 1
            print(f"ok   {check.__name__}")
        except Exception:  # noqa: BLE001 - every failure is reported the same way
            failed += 1
            print(f"FAIL {check.__name__}")
            traceback.print_exc(file=sys.stdout)
    print(f"msal: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
