//! The OpenID Connect discovery document (v2), fetched once and cached.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use entra_core::http::{EndpointKind, HttpClient, HttpRequest};
use entra_core::{Authority, Clock, IssuerTemplate, Tenant, TenantId};
use serde::Deserialize;

use crate::config::check_redirect_uri;
use crate::http::MAX_BODY;
use crate::{Error, Result};

/// After a failed refresh, a stale document is used this long before the next try.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60);

/// The parts of Entra's v2 OpenID Connect metadata this crate uses.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metadata {
    /// The issuer; `https://login.microsoftonline.com/{tenantid}/v2.0` (a
    /// template) for `common` and `organizations`.
    pub issuer: String,
    /// Where the browser is sent to sign in.
    pub authorization_endpoint: String,
    /// Where codes and refresh tokens are redeemed.
    pub token_endpoint: String,
    /// Where the browser is sent to sign out.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    /// The signing keys.
    pub jwks_uri: String,
    /// Whether the authority puts `iss` in every authorization response (RFC
    /// 9207); when `true`, a callback without it is refused.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metadata")
            .field("issuer", &self.issuer)
            .field("authorization_endpoint", &self.authorization_endpoint)
            .field("token_endpoint", &self.token_endpoint)
            .field("end_session_endpoint", &self.end_session_endpoint)
            .finish_non_exhaustive()
    }
}

impl Metadata {
    /// Checks the `iss` parameter of an authorization response (RFC 9207)
    /// against this document's issuer: equal to it, or, for a `{tenantid}`
    /// template, equal to it with a GUID tenant id that the issuer names. An
    /// absent `iss` passes unless
    /// [`Metadata::authorization_response_iss_parameter_supported`].
    pub(crate) fn check_response_issuer(&self, iss: Option<&str>) -> Result<()> {
        let expected = IssuerTemplate::new(self.issuer.as_str());
        let ok = match iss {
            None => !self.authorization_response_iss_parameter_supported,
            Some(iss) if expected.is_templated() => {
                iss.split('/').any(|seg| expected.check(iss, Some(seg)).is_ok())
            }
            Some(iss) => iss == expected.as_str(),
        };
        if ok {
            return Ok(());
        }
        Err(Error::AuthorizationIssuerMismatch {
            expected: self.issuer.chars().take(128).collect(),
            actual: iss.map(entra_core::shorten_untrusted),
        })
    }

    /// For a single tenant, its id as named by the issuer (`None` for a
    /// `{tenantid}` template).
    pub fn tenant_id(&self) -> Option<TenantId> {
        let issuer = self.issuer.strip_suffix("/v2.0")?;
        let (_, last) = issuer.rsplit_once('/')?;
        TenantId::parse(last).ok()
    }

    /// For an Entra External ID (CIAM) authority, the other host form of its
    /// issuer: `https://{tid}.ciamlogin.com/{tid}/v2.0`, with the tenant id as
    /// the host, which CIAM publishes beside (or instead of)
    /// `https://{subdomain}.ciamlogin.com/{tid}/v2.0`. Returns the login base of
    /// that host (`https://{tid}.ciamlogin.com`) when the issuer has this exact
    /// shape for its own tenant id and the authority is CIAM; `None` otherwise.
    pub(crate) fn ciam_tenant_host(&self, authority: &Authority) -> Option<String> {
        if !authority.cloud().is_ciam() {
            return None;
        }
        let tid = self.tenant_id()?;
        // The authority's login base with the tenant id as the host (same scheme
        // and port).
        let mut base = url::Url::parse(authority.cloud().login_base()).ok()?;
        base.set_host(Some(&format!("{tid}.ciamlogin.com"))).ok()?;
        let base = base.as_str().trim_end_matches('/').to_owned();
        (self.issuer == format!("{base}/{tid}/v2.0")).then_some(base)
    }

    /// Checks the document against the authority it was fetched for.
    fn check(&self, authority: &Authority) -> Result<()> {
        let published = IssuerTemplate::new(self.issuer.as_str());
        let expected = match authority.v2_issuer() {
            Some(rule) => rule.as_str().to_owned(),
            // A domain tenant: the issuer must be the cloud's v2 issuer of a GUID.
            None => match self.tenant_id() {
                Some(tid) => authority.cloud().v2_issuer(&tid),
                None => format!("{}/<tenant id>/v2.0", authority.cloud().login_base()),
            },
        };
        // CIAM may name its tenant by id in the issuer's host; the tenant must
        // still be the authority's (for a GUID authority, `expected` names it).
        let ciam_tid_host = self.ciam_tenant_host(authority).is_some()
            && match authority.tenant() {
                Tenant::Id(tid) => self.tenant_id().as_ref() == Some(tid),
                _ => true,
            };
        if published.as_str() != expected && !ciam_tid_host {
            return Err(Error::DiscoveryIssuerMismatch {
                expected,
                actual: self.issuer.chars().take(128).collect(),
            });
        }
        if matches!(authority.tenant(), Tenant::Domain(_)) && published.is_templated() {
            return Err(Error::DiscoveryIssuerMismatch {
                expected,
                actual: self.issuer.chars().take(128).collect(),
            });
        }
        let endpoints = [
            ("authorization_endpoint", Some(&self.authorization_endpoint)),
            ("token_endpoint", Some(&self.token_endpoint)),
            ("jwks_uri", Some(&self.jwks_uri)),
            ("end_session_endpoint", self.end_session_endpoint.as_ref()),
        ];
        for (name, value) in endpoints {
            if let Some(v) = value {
                check_redirect_uri(v).map_err(|reason| Error::InvalidResponse {
                    endpoint: "discovery",
                    reason: format!("{name}: {reason}"),
                })?;
            }
        }
        Ok(())
    }
}

#[derive(Clone)]
struct Cached {
    metadata: Arc<Metadata>,
    fresh_until: SystemTime,
}

/// Fetches and caches the discovery document of one authority.
pub(crate) struct Discovery {
    authority: Authority,
    url: String,
    ttl: Duration,
    http: HttpClient,
    clock: Arc<dyn Clock>,
    cache: tokio::sync::Mutex<Option<Cached>>,
}

impl fmt::Debug for Discovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Discovery").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Discovery {
    pub(crate) fn new(
        authority: Authority,
        ttl: Duration,
        http: HttpClient,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let url = authority.v2_discovery_url();
        Self { authority, url, ttl, http, clock, cache: tokio::sync::Mutex::new(None) }
    }

    /// The document, from the cache while it is fresh. Concurrent callers on a
    /// cold cache share one fetch. When a refresh fails and a stale document is
    /// cached, the stale one is used (Entra's metadata rarely changes) and the
    /// fetch is retried a minute later.
    pub(crate) async fn get(&self) -> Result<Arc<Metadata>> {
        let mut cache = self.cache.lock().await;
        let now = self.clock.now();
        if let Some(c) = cache.as_ref().filter(|c| now < c.fresh_until) {
            return Ok(c.metadata.clone());
        }
        match self.fetch().await {
            Ok(metadata) => {
                let metadata = Arc::new(metadata);
                let fresh_until = now.checked_add(self.ttl).unwrap_or(now);
                *cache = Some(Cached { metadata: metadata.clone(), fresh_until });
                Ok(metadata)
            }
            Err(e) => match cache.as_mut() {
                Some(stale) if e.is_transient() => {
                    tracing::warn!(url = %self.url, error = %e, "discovery refresh failed; using the cached document");
                    stale.fresh_until = now.checked_add(RETRY_AFTER_FAILURE).unwrap_or(now);
                    Ok(stale.metadata.clone())
                }
                _ => Err(e),
            },
        }
    }

    async fn fetch(&self) -> Result<Metadata> {
        const ENDPOINT: &str = "discovery";
        let request = HttpRequest::get(EndpointKind::Discovery, self.url.as_str()).limit(MAX_BODY);
        let response =
            self.http.send(request).await.map_err(|e| crate::http::http_error(ENDPOINT, e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::HttpStatus { endpoint: ENDPOINT, status: status.as_u16() });
        }
        let metadata: Metadata = serde_json::from_slice(response.body())
            .map_err(|source| Error::InvalidJson { endpoint: ENDPOINT, source })?;
        metadata.check(&self.authority)?;
        Ok(metadata)
    }
}

#[cfg(test)]
mod tests {
    use entra_core::Cloud;

    use super::*;

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    fn doc(issuer: &str) -> Metadata {
        let base = "https://login.microsoftonline.com/x/oauth2/v2.0";
        Metadata {
            issuer: issuer.into(),
            authorization_endpoint: format!("{base}/authorize"),
            token_endpoint: format!("{base}/token"),
            end_session_endpoint: Some(format!("{base}/logout")),
            jwks_uri: "https://login.microsoftonline.com/x/discovery/v2.0/keys".into(),
            authorization_response_iss_parameter_supported: false,
        }
    }

    fn authority(t: &str) -> Authority {
        Authority::new(Cloud::Public, Tenant::parse(t).unwrap())
    }

    #[test]
    fn issuer_rules() {
        let single = format!("https://login.microsoftonline.com/{TID}/v2.0");
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        doc(&single).check(&authority(TID)).unwrap();
        doc(template).check(&authority("organizations")).unwrap();
        doc(template).check(&authority("common")).unwrap();
        doc(&single).check(&authority("contoso.com")).unwrap();
        assert_eq!(doc(&single).tenant_id().unwrap().as_str(), TID);
        assert!(doc(template).tenant_id().is_none());

        let other = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0";
        for (iss, a) in [
            (other, TID),
            (template, TID),
            (single.as_str(), "organizations"),
            (template, "contoso.com"),
            ("https://evil.example/{tenantid}/v2.0", "common"),
            ("https://login.microsoftonline.com/contoso.com/v2.0", "contoso.com"),
        ] {
            assert!(
                matches!(doc(iss).check(&authority(a)), Err(Error::DiscoveryIssuerMismatch { .. })),
                "{iss} at {a}"
            );
        }
    }

    #[test]
    fn ciam_issuers_in_both_host_forms() {
        let ciam =
            |t: &str| Authority::parse(&format!("https://contoso.ciamlogin.com/{t}")).unwrap();
        let by_name = format!("https://contoso.ciamlogin.com/{TID}/v2.0");
        let by_id = format!("https://{TID}.ciamlogin.com/{TID}/v2.0");
        // Passing: the subdomain form and the tenant-id-host form, for a GUID and
        // a domain authority.
        for a in [ciam(TID), ciam("contoso.onmicrosoft.com")] {
            doc(&by_name).check(&a).unwrap();
            assert_eq!(doc(&by_name).ciam_tenant_host(&a), None);
            doc(&by_id).check(&a).unwrap();
            assert_eq!(
                doc(&by_id).ciam_tenant_host(&a).as_deref(),
                Some(format!("https://{TID}.ciamlogin.com").as_str())
            );
        }
        // Failing: the id host of another tenant, a host that is not the id, the
        // id form for a non-CIAM authority.
        let other = "00000000-0000-0000-0000-000000000001";
        for (iss, a) in [
            (format!("https://{other}.ciamlogin.com/{other}/v2.0"), ciam(TID)),
            (format!("https://{other}.ciamlogin.com/{TID}/v2.0"), ciam(TID)),
            (format!("https://fabrikam.ciamlogin.com/{TID}/v2.0"), ciam(TID)),
            (format!("https://{TID}.ciamlogin.com/{TID}/v2.0"), authority(TID)),
            (format!("https://{TID}.evil.example/{TID}/v2.0"), ciam(TID)),
        ] {
            assert!(
                matches!(doc(&iss).check(&a), Err(Error::DiscoveryIssuerMismatch { .. })),
                "{iss} at {a}"
            );
        }
    }

    #[test]
    fn authorization_response_issuer_rules() {
        let single = format!("https://login.microsoftonline.com/{TID}/v2.0");
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        // Passing: the same issuer, the template with a GUID, no `iss` at all.
        doc(&single).check_response_issuer(Some(&single)).unwrap();
        doc(template).check_response_issuer(Some(&single)).unwrap();
        doc(&single).check_response_issuer(None).unwrap();
        // Failing: another tenant, another host, a template that is not filled with
        // a GUID, a missing `iss` where the document promises one.
        let other = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0";
        let mut promised = doc(&single);
        promised.authorization_response_iss_parameter_supported = true;
        promised.check_response_issuer(Some(&single)).unwrap();
        for (d, iss) in [
            (doc(&single), Some(other)),
            (doc(&single), Some("https://evil.example/")),
            (doc(&single), Some(&single[..single.len() - 1])),
            (doc(template), Some("https://login.microsoftonline.com/contoso.com/v2.0")),
            (doc(template), Some(template)),
            (doc(template), Some("https://evil.example/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0")),
            (promised, None),
        ] {
            let err = d.check_response_issuer(iss).unwrap_err();
            assert!(
                matches!(&err, Error::AuthorizationIssuerMismatch { actual, .. } if actual.is_some() == iss.is_some()),
                "{iss:?}: {err:?}"
            );
            assert_eq!(err.code(), "authorization_issuer_mismatch");
            assert!(err.is_unauthorized());
        }
    }

    #[test]
    fn endpoints_must_be_https() {
        let mut d = doc(&format!("https://login.microsoftonline.com/{TID}/v2.0"));
        d.token_endpoint = "http://evil.example/token".into();
        assert!(matches!(d.check(&authority(TID)), Err(Error::InvalidResponse { .. })));
    }
}
