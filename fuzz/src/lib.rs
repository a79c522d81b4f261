//! What the token targets share: a validator whose keys are given in memory and
//! whose clock stands still, a signing key, the rules each validator is built
//! from, and the oracle that checks an accepted token against those rules
//! without asking the validator.

use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use entra_core::{Authority, Cloud, ManualClock, Tenant, TenantId, ValidatedToken};
use entra_jwks::{AcceptedVersions, Algorithm, Match, TenantPolicy, Validator};
use serde_json::Value;

/// The validators' fixed time (2023-11-14T22:13:20Z).
pub const NOW: i64 = 1_700_000_000;
/// The tenant of the single-tenant validators.
pub const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// A partner tenant.
pub const TID2: &str = "00000000-1111-2222-3333-444444444444";
/// The tenant of personal Microsoft accounts.
pub const CONSUMERS: &str = TenantId::CONSUMERS;
/// The API's client id.
pub const CLIENT: &str = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
/// The nonce ID tokens are validated against.
pub const NONCE: &str = "n-0S6_WzA2Mj";
/// The `kid` of the signing key, published with Entra's `{tenantid}` issuer.
pub const KID: &str = "ec1";
/// The same key published without an issuer.
pub const KID_PLAIN: &str = "ec2";
/// An RSA key (no private key here: tokens naming it never verify).
pub const KID_RSA: &str = "rsa1";

/// The P-256 key that signs the fuzzed tokens (PKCS#8). Generated for the fuzz
/// targets; it signs nothing else.
const SIGNING_KEY_PKCS8: &str = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgIBSKLHu32t6bfkYqiRFEt0YafxFtm9A8oscrhD/amFuhRANCAAQYJ2Rq47pUCCymfuNvpNe1TF2fwNsCu4nzEZUGg9vQvw8IvhuZrHeWb2jx+/KNrHNhgGa4oXGLKjz5MEGK3ywk";
const EC_X: &str = "GCdkauO6VAgspn7jb6TXtUxdn8DbAruJ8xGVBoPb0L8";
const EC_Y: &str = "Dwi-G5msd5ZvaPH78o2sc2GAZrihcYsqPPkwQYrfLCQ";
const RSA_N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";

/// The JWKS document the validators trust.
pub fn jwks() -> String {
    format!(
        concat!(
            r#"{{"keys":["#,
            r#"{{"kty":"EC","use":"sig","kid":"{kid}","crv":"P-256","x":"{x}","y":"{y}","#,
            r#""issuer":"https://login.microsoftonline.com/{{tenantid}}/v2.0"}},"#,
            r#"{{"kty":"EC","kid":"{plain}","crv":"P-256","x":"{x}","y":"{y}"}},"#,
            r#"{{"kty":"RSA","use":"sig","kid":"{rsa}","n":"{n}","e":"AQAB"}}]}}"#
        ),
        kid = KID,
        plain = KID_PLAIN,
        rsa = KID_RSA,
        x = EC_X,
        y = EC_Y,
        n = RSA_N
    )
}

/// Signs `header` and `payload` (any bytes) with the trusted key: a compact JWS.
pub fn sign(header: &[u8], payload: &[u8]) -> String {
    static KEY: OnceLock<EcdsaKeyPair> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        let der = STANDARD.decode(SIGNING_KEY_PKCS8).expect("key");
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der).expect("key")
    });
    let signed = format!("{}.{}", B64.encode(header), B64.encode(payload));
    let sig = key.sign(&SystemRandom::new(), signed.as_bytes()).expect("sign");
    format!("{signed}.{}", B64.encode(sig.as_ref()))
}

/// Runs a future that must not wait: with keys in memory and a clock that stands
/// still, validation never fetches. A wait would mean a network fetch, which is
/// a failure of the harness.
pub fn now_or_never<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("validation waited: it tried to fetch keys"),
    }
}

/// The rules a validator is built from, restated for the oracle.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The authority's tenant segment.
    pub authority: &'static str,
    /// Allowed tenants; `None` is any tenant.
    pub tenants: Option<Vec<&'static str>>,
    /// Accepted `ver` values.
    pub versions: &'static [&'static str],
    /// Audiences besides the client id.
    pub audiences: &'static [&'static str],
    /// Leeway on `exp` and `nbf`, seconds.
    pub leeway: i64,
    /// Required scopes: (all of them?, the scopes).
    pub scopes: Option<(bool, &'static [&'static str])>,
    /// Required roles: (all of them?, the roles).
    pub roles: Option<(bool, &'static [&'static str])>,
    /// Either rule suffices.
    pub either: bool,
    /// App-only tokens accepted.
    pub app_only: bool,
}

fn rule(all: bool, items: &[&str]) -> Match {
    if all { Match::all_of(items.iter().copied()) } else { Match::any_of(items.iter().copied()) }
}

impl Rules {
    fn validator(&self) -> Validator {
        let authority =
            Authority::new(Cloud::Public, Tenant::parse(self.authority).expect("tenant"));
        let versions = match self.versions {
            ["1.0"] => AcceptedVersions::V1,
            ["2.0"] => AcceptedVersions::V2,
            _ => AcceptedVersions::Both,
        };
        let mut b = Validator::builder(authority, CLIENT.parse().expect("client id"))
            .algorithms([Algorithm::RS256, Algorithm::ES256])
            .clock(Arc::new(ManualClock::at_unix(NOW as u64)))
            .versions(versions)
            .audiences(self.audiences.iter().copied())
            .leeway(Duration::from_secs(self.leeway as u64))
            .allow_app_only(self.app_only)
            .scopes_or_roles(self.either)
            .token_cache_capacity(256);
        if let Some(t) = &self.tenants {
            let ids = t.iter().map(|t| t.parse().expect("tenant id")).collect();
            b = b.tenants(TenantPolicy::Only(ids));
        } else if Tenant::parse(self.authority).expect("tenant").is_multi_tenant() {
            b = b.tenants(TenantPolicy::Any);
        }
        if let Some((all, s)) = self.scopes {
            b = b.required_scopes(rule(all, s));
        }
        if let Some((all, r)) = self.roles {
            b = b.required_roles(rule(all, r));
        }
        entra_jwks::fuzzing::with_keys(b, jwks().as_bytes()).expect("jwks").build().expect("build")
    }
}

/// The validator configurations, each with its rules.
pub fn setups() -> &'static [(Rules, Validator)] {
    static SETUPS: OnceLock<Vec<(Rules, Validator)>> = OnceLock::new();
    SETUPS.get_or_init(|| {
        let rules = [
            Rules {
                authority: TID,
                tenants: Some(vec![TID]),
                versions: &["2.0"],
                audiences: &["api://6e74172b-be56-4843-9ff4-e66a39bb12e3"],
                leeway: 60,
                scopes: None,
                roles: None,
                either: false,
                app_only: true,
            },
            Rules {
                authority: TID,
                tenants: Some(vec![TID]),
                versions: &["1.0", "2.0"],
                audiences: &[],
                leeway: 0,
                scopes: Some((false, &["read", "write"])),
                roles: None,
                either: false,
                app_only: false,
            },
            Rules {
                authority: "organizations",
                tenants: Some(vec![TID, TID2, CONSUMERS]),
                versions: &["1.0", "2.0"],
                audiences: &["https://api.contoso.com"],
                leeway: 300,
                scopes: None,
                roles: Some((true, &["Tasks.Read", "Tasks.Write"])),
                either: false,
                app_only: true,
            },
            Rules {
                authority: "common",
                tenants: None,
                versions: &["1.0"],
                audiences: &["api://6e74172b-be56-4843-9ff4-e66a39bb12e3"],
                leeway: 60,
                scopes: Some((true, &["a", "b"])),
                roles: Some((false, &["r"])),
                either: true,
                app_only: true,
            },
            Rules {
                authority: "common",
                tenants: Some(vec![TID2]),
                versions: &["1.0", "2.0"],
                audiences: &[],
                leeway: 120,
                scopes: Some((true, &["a", "b"])),
                roles: Some((false, &["r"])),
                either: false,
                app_only: false,
            },
            Rules {
                authority: "consumers",
                tenants: Some(vec![CONSUMERS]),
                versions: &["2.0"],
                audiences: &[],
                leeway: 60,
                scopes: None,
                roles: None,
                either: false,
                app_only: true,
            },
        ];
        rules
            .into_iter()
            .map(|r| {
                let v = r.validator();
                (r, v)
            })
            .collect()
    })
}

/// Which validation was run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `Validator::validate`.
    Access,
    /// `Validator::validate_id_token` with [`NONCE`].
    Id,
}

/// Validates `token` with setup `index` (modulo the number of setups) and, when
/// it is accepted, checks every rule with [`check_accepted`].
pub fn validate_and_check(index: usize, kind: Kind, token: &str) -> bool {
    let all = setups();
    let (rules, validator) = &all[index % all.len()];
    let result = match kind {
        Kind::Access => now_or_never(validator.validate(token)),
        Kind::Id => now_or_never(validator.validate_id_token(token, NONCE)),
    };
    match result {
        Ok(validated) => {
            check_accepted(rules, kind, token, &validated);
            true
        }
        Err(e) => {
            assert!(!e.is_transient(), "keys are in memory: {e:?}");
            false
        }
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn string<'a>(claims: &'a Value, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

fn is_graph(aud: &str) -> bool {
    let a = aud.trim_end_matches('/').to_ascii_lowercase();
    [
        entra_core::GRAPH_APP_ID,
        "https://graph.microsoft.com",
        "https://graph.microsoft.us",
        "https://dod-graph.microsoft.us",
        "https://microsoftgraph.chinacloudapi.cn",
        "https://graph.windows.net",
    ]
    .contains(&a.as_str())
}

/// The oracle: `token` was accepted by the validator built from `rules`; panics
/// (a crash for libFuzzer) naming the first rule the token breaks. It reads the
/// token itself (`serde_json::Value`), not the validator's parsed claims.
pub fn check_accepted(rules: &Rules, kind: Kind, token: &str, validated: &ValidatedToken) {
    assert_eq!(validated.raw().expose_secret(), token, "the validated token is the token");
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        panic!("accepted a token that is not three parts");
    };
    let decode = |s: &str| B64.decode(s.trim_end_matches('=')).expect("accepted base64url");
    let header: Value = serde_json::from_slice(&decode(h)).expect("accepted header is JSON");
    let claims: Value = serde_json::from_slice(&decode(p)).expect("accepted claims are JSON");
    assert!(claims.is_object(), "claims are an object");

    // Header: an allowed algorithm, the trusted EC key, no Graph nonce, no crit.
    assert_eq!(header["alg"], "ES256", "only the EC key can sign: alg");
    let kid = header.get("kid").or_else(|| header.get("x5t")).and_then(Value::as_str);
    assert!(matches!(kid, Some(KID | KID_PLAIN)), "signed by the trusted key: kid {kid:?}");
    assert!(header.get("nonce").is_none(), "a Graph token (header nonce) was accepted");
    assert!(header.get("crit").is_none(), "a header with crit was accepted");

    // Version.
    let ver = string(&claims, "ver");
    assert!(ver.is_some_and(|v| rules.versions.contains(&v)), "version {ver:?}");

    // Time, against the fixed clock with the leeway.
    let exp = claims.get("exp").and_then(Value::as_i64).expect("exp is required");
    assert!(exp > NOW - rules.leeway, "expired: exp {exp}, leeway {}", rules.leeway);
    if let Some(nbf) = claims.get("nbf").filter(|v| !v.is_null()) {
        let nbf = nbf.as_i64().expect("nbf is a number");
        assert!(nbf <= NOW + rules.leeway, "not yet valid: nbf {nbf}");
    }

    // Issuer and tenant.
    let tid = string(&claims, "tid").expect("tid is required");
    let tenant = TenantId::parse(tid).expect("tid is a GUID");
    let t = tenant.as_str();
    let expected_iss = match ver {
        Some("1.0") => format!("https://sts.windows.net/{t}/"),
        _ => format!("https://login.microsoftonline.com/{t}/v2.0"),
    };
    assert_eq!(string(&claims, "iss"), Some(expected_iss.as_str()), "issuer");
    if let Some(allowed) = &rules.tenants {
        assert!(allowed.contains(&t), "tenant {t} is not allowed");
    }
    match rules.authority {
        "organizations" => assert_ne!(t, CONSUMERS, "organizations took a personal account"),
        "common" => {}
        single => {
            let own = Tenant::parse(single).ok().and_then(|s| s.tenant_id()).expect("tid");
            assert_eq!(t, own.as_str(), "the authority's tenant");
        }
    }

    // Audience, and never Graph's.
    let auds = strings(claims.get("aud"));
    assert!(!auds.iter().any(|a| is_graph(a)), "a token for Graph was accepted: {auds:?}");
    let ok = auds.iter().any(|a| {
        a.eq_ignore_ascii_case(CLIENT) || (kind == Kind::Access && rules.audiences.contains(a))
    });
    assert!(ok, "audience {auds:?}");

    match kind {
        Kind::Id => assert_eq!(string(&claims, "nonce"), Some(NONCE), "nonce"),
        Kind::Access => check_permissions(rules, &claims),
    }
}

fn check_permissions(rules: &Rules, claims: &Value) {
    let caller = string(claims, "azp").or_else(|| string(claims, "appid"));
    assert!(caller.is_some(), "an access token names its client (azp or appid)");
    let scp = string(claims, "scp");
    let scopes: Vec<&str> = scp.unwrap_or("").split_ascii_whitespace().collect();
    let roles = strings(claims.get("roles"));
    assert!(!scopes.is_empty() || !roles.is_empty(), "no scp and no roles");
    let app_only = match string(claims, "idtyp") {
        Some("app") => true,
        Some("user") => false,
        _ => {
            let sub = string(claims, "sub");
            scp.is_none() && sub.is_some() && sub == string(claims, "oid")
        }
    };
    assert!(rules.app_only || !app_only, "an app-only token was accepted");
    let holds = |rule: Option<(bool, &[&str])>, have: &[&str]| {
        rule.map(|(all, need)| {
            if all {
                need.iter().all(|n| have.contains(n))
            } else {
                need.iter().any(|n| have.contains(n))
            }
        })
    };
    let s = holds(rules.scopes, &scopes);
    let r = holds(rules.roles, &roles);
    let ok = match (s, r) {
        (None, None) => true,
        (Some(a), None) | (None, Some(a)) => a,
        (Some(a), Some(b)) => {
            if rules.either {
                a || b
            } else {
                a && b
            }
        }
    };
    assert!(ok, "required scopes or roles missing: scp {scopes:?}, roles {roles:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(ver: &str, tid: &str) -> Value {
        let iss = if ver == "1.0" {
            format!("https://sts.windows.net/{tid}/")
        } else {
            format!("https://login.microsoftonline.com/{tid}/v2.0")
        };
        serde_json::json!({
            "ver": ver, "iss": iss, "tid": tid, "aud": CLIENT, "azp": CLIENT,
            "oid": "00000000-0000-0000-0000-0000000000aa", "sub": "pairwise-subject",
            "scp": "read a b", "roles": ["r", "Tasks.Read", "Tasks.Write"],
            "nonce": NONCE, "exp": NOW + 3600, "nbf": NOW - 60, "iat": NOW - 60,
        })
    }

    #[test]
    fn every_setup_accepts_a_good_token_and_refuses_a_forged_one() {
        for (i, (rules, _)) in setups().iter().enumerate() {
            let tid = rules.tenants.as_ref().map_or(TID, |t| t[0]);
            let ver = rules.versions[0];
            let header = format!(r#"{{"alg":"ES256","kid":"{KID}","typ":"JWT"}}"#);
            let token = sign(header.as_bytes(), claims(ver, tid).to_string().as_bytes());
            assert!(validate_and_check(i, Kind::Access, &token), "setup {i} access");
            assert!(validate_and_check(i, Kind::Id, &token), "setup {i} id");
            let forged = format!("{}x", &token[..token.len() - 1]);
            assert!(!validate_and_check(i, Kind::Access, &forged), "setup {i} forged");
        }
    }

    #[test]
    #[should_panic(expected = "an app-only token was accepted")]
    fn the_oracle_catches_a_broken_rule() {
        // Setup 0 allows app-only tokens; the oracle told it does not must object.
        let (rules, validator) = &setups()[0];
        let mut c = claims("2.0", TID);
        c["idtyp"] = "app".into();
        let token = sign(br#"{"alg":"ES256","kid":"ec1"}"#, c.to_string().as_bytes());
        let validated = now_or_never(validator.validate(&token)).unwrap();
        let strict = Rules { app_only: false, ..rules.clone() };
        check_accepted(&strict, Kind::Access, &token, &validated);
    }
}
