//! The on-behalf-of grant (`urn:ietf:params:oauth:grant-type:jwt-bearer`), with the
//! checks Entra makes.

use crate::server::Request;
use entra_core::TenantId;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::TestUser;
use crate::issue::{UserExtras, add_user_extras, delegated, response_scope, token_body};
use crate::state::{Resource, State};
use crate::token::{
    ClientAuth, Form, Reply, audiences, authenticate, err, err_as, lenient, missing, numeric_date,
    parse_scopes, short, user_fault,
};

pub(crate) fn on_behalf_of(s: &mut State, req: &Request, form: &Form, token_url: &str) -> Reply {
    let (client, auth) = authenticate(s, req, form, token_url)?;
    if auth == ClientAuth::Public {
        return Err(err(
            s,
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    }
    match form.get("requested_token_use") {
        Some("on_behalf_of") => {}
        Some(other) => {
            return Err(err(
                s,
                900144,
                format!(
                    "The value '{}' of 'requested_token_use' is not valid: use 'on_behalf_of'.",
                    short(other)
                ),
            ));
        }
        None => return Err(missing(s, "requested_token_use")),
    }
    if form.get("resource").is_some() {
        return Err(err(
            s,
            9010010,
            "The passed in resource parameter is not supported on the v2 endpoints: use the scope parameter.",
        ));
    }
    let blank = form.0.iter().any(|(k, v)| k == "scope" && v.trim().is_empty());
    if blank {
        return Err(err_as(
            s,
            28003,
            "invalid_scope",
            "Provided value for the input parameter scope cannot be empty when requesting an access token. Please specify a valid scope.",
        ));
    }
    let scope = form.get("scope").ok_or_else(|| missing(s, "scope"))?.to_owned();
    let scopes = parse_scopes(s, &scope)?;
    let Some(resource) = scopes.resource.clone() else {
        return Err(err(
            s,
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {} names no resource.",
                short(&scope)
            ),
        ));
    };
    let assertion = form.get("assertion").ok_or_else(|| missing(s, "assertion"))?;
    let claims = verify_user_assertion(s, assertion)?;
    let aud_ok = audiences(&claims).iter().any(|a| client.is_audience(a));
    if !aud_ok {
        let aud = audiences(&claims).join(",");
        return Err(err(
            s,
            50013,
            format!(
                "Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '{}' and the expected audience is '{}' or one of the Application Ids of the Client app presenting the assertion.",
                short(&aud),
                client.client_id
            ),
        ));
    }
    let app_only = claims["idtyp"].as_str() == Some("app")
        || (claims.get("idtyp").is_none() && claims.get("scp").is_none());
    if app_only {
        return Err(err(
            s,
            7000114,
            format!(
                "Application '{}' is not allowed to make application on-behalf-of calls.",
                client.client_id
            ),
        ));
    }
    let user = user_from_claims(s, &claims)?;
    user_fault(s, &user.oid)?;

    // Requested permissions must be exposed by the API, then consented.
    if let Resource::App(id) = &resource
        && let Some(api) = s.app(id.as_str())
        && let Some(bad) = scopes.permissions.iter().find(|p| !api.scopes.contains(p))
    {
        return Err(err(
            s,
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope '{}' is not exposed by the resource.",
                short(bad)
            ),
        ));
    }
    let consented = s.consents.get(&(client.client_id.clone(), resource.clone()));
    let permissions: Vec<String> = if scopes.default {
        consented.map(|c| c.iter().cloned().collect()).unwrap_or_default()
    } else {
        scopes.permissions.clone()
    };
    let missing_consent = permissions.is_empty()
        || permissions.iter().any(|p| !consented.is_some_and(|c| c.contains(p)));
    if missing_consent {
        let mut e = err(
            s,
            65001,
            format!(
                "The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an interactive authorization request for this user and resource.",
                client.client_id, client.name
            ),
        );
        if let Some(m) = e.body.as_object_mut() {
            m.insert("suberror".into(), json!("consent_required"));
        }
        return Err(e);
    }
    let (access, granted) = delegated(s, &user, &client, &resource, &permissions)?;
    let mut body = token_body(s, access, response_scope(granted, &scopes));
    let extras = UserExtras {
        user: &user,
        client: &client,
        scopes: &scopes,
        refresh_scope: &scope,
        nonce: None,
        client_info: form.get("client_info") == Some("1"),
    };
    add_user_extras(s, &mut body, &extras)?;
    Ok(body)
}

/// Verifies the user assertion: a published key, RS256, a mock issuer for its
/// `tid`, not expired.
fn verify_user_assertion(s: &State, assertion: &str) -> Result<Value, crate::fault::ErrorReply> {
    let sig = |why: &str| {
        err(s, 50013, format!("Assertion failed signature validation. [Reason - {why}]"))
    };
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| err(s, 50027, "Invalid JWT token. Token format not valid."))?;
    if header.alg != Algorithm::RS256 {
        return Err(sig("The token is not signed with RS256."));
    }
    let kid = header.kid.unwrap_or_default();
    let Some(key) = s.keys.iter().find(|k| k.kid == kid) else {
        return Err(sig("The key was not found."));
    };
    let decoding = key.decoding_key().map_err(|_| sig("The key is unusable."))?;
    let claims: Value = jsonwebtoken::decode(assertion, &decoding, &lenient(Algorithm::RS256))
        .map_err(|_| sig("The signature does not verify."))?
        .claims;
    let tid = claims["tid"].as_str().and_then(|t| TenantId::parse(t).ok());
    let iss = claims["iss"].as_str().unwrap_or_default();
    let issuer_ok = tid.as_ref().is_some_and(|t| {
        s.is_tenant(t.as_str()) && (iss == s.cloud.v2_issuer(t) || iss == s.cloud.v1_issuer(t))
    });
    if !issuer_ok {
        return Err(err(
            s,
            50013,
            format!(
                "Assertion failed issuer validation. The issuer '{}' is not a tenant of this authority.",
                short(iss)
            ),
        ));
    }
    let now = s.now();
    let exp = numeric_date(&claims["exp"]).unwrap_or(i64::MIN);
    let nbf = numeric_date(&claims["nbf"]).unwrap_or(i64::MIN);
    if exp <= now || nbf > now + 300 {
        return Err(err(
            s,
            500133,
            "Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token.",
        ));
    }
    Ok(claims)
}

/// The registered user of the assertion, or one built from its claims.
fn user_from_claims(s: &State, claims: &Value) -> Result<TestUser, crate::fault::ErrorReply> {
    let oid = claims["oid"].as_str().ok_or_else(|| err(s, 50013, "Assertion has no oid claim."))?;
    if let Some(u) = s.user(oid) {
        return Ok(u.clone());
    }
    let name =
        claims["preferred_username"].as_str().or(claims["upn"].as_str()).unwrap_or("unknown@mock");
    let mut user = TestUser::new(name).oid(oid);
    if let Some(tid) = claims["tid"].as_str().and_then(|t| TenantId::parse(t).ok()) {
        user = user.tenant(tid);
    }
    Ok(user)
}
