//! Building the `scope` parameter of an OBO request from a [`Target`].

use entra_core::{Cloud, Target};

use crate::error::shorten;
use crate::{Error, Result};

/// Scopes that OpenID Connect adds and that On-Behalf-Of must not send.
const OIDC_SCOPES: [&str; 3] = ["openid", "profile", "offline_access"];

/// The checked scopes of one OBO request: all of one resource, `.default` alone or
/// explicit scopes, without the OpenID Connect scopes.
///
/// ```
/// use entra_core::{Cloud, Target};
/// use entra_obo::Scopes;
///
/// let s = Scopes::build(&Target::from("https://graph.microsoft.com"), &Cloud::Public)?;
/// assert_eq!(s.scope_param(), "https://graph.microsoft.com/.default");
/// // A trailing slash is part of the resource identifier.
/// let s = Scopes::build(&Target::from("https://management.azure.com/"), &Cloud::Public)?;
/// assert_eq!(s.scope_param(), "https://management.azure.com//.default");
/// // Bare scopes are Microsoft Graph's; OIDC scopes are dropped.
/// let s = Scopes::build(&Target::from(["openid", "User.Read", "Mail.Read"]), &Cloud::Public)?;
/// assert_eq!(s.scope_param(), "User.Read Mail.Read");
/// assert_eq!(s.resource(), "https://graph.microsoft.com");
/// // Two resources in one request: refused before any network call.
/// assert!(Scopes::build(&Target::from(["User.Read", "api://other/read"]), &Cloud::Public).is_err());
/// # Ok::<(), entra_obo::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Scopes {
    resource: String,
    scopes: Vec<String>,
    param: String,
    key: String,
}

impl Scopes {
    /// Checks `target` and builds its scopes. Bare scopes (`User.Read`) belong to
    /// Microsoft Graph of `cloud`.
    ///
    /// # Errors
    /// [`Error::NoScopes`] for an empty target; [`Error::MultipleResources`] when
    /// the scopes name more than one resource; [`Error::DefaultWithOtherScopes`]
    /// when `.default` is mixed with other scopes; [`Error::MalformedScope`] for
    /// a scope with whitespace inside or no name.
    pub fn build(target: &Target, cloud: &Cloud) -> Result<Self> {
        match target {
            Target::Resource(resource) => Self::for_resource(resource),
            Target::Scopes(list) => Self::for_scopes(list, cloud),
            _ => Err(Error::NoScopes),
        }
    }

    fn for_resource(resource: &str) -> Result<Self> {
        let resource = resource.trim();
        if resource.is_empty() {
            return Err(Error::NoScopes);
        }
        if resource.contains(char::is_whitespace) {
            return Err(Error::MalformedScope {
                scope: shorten(resource),
                reason: "a resource identifier has no whitespace; pass several scopes as a list",
            });
        }
        if let Some(stripped) = resource.strip_suffix("/.default") {
            return Ok(Self::single_default(stripped));
        }
        Ok(Self::single_default(resource))
    }

    fn single_default(resource: &str) -> Self {
        let param = format!("{resource}/.default");
        Self {
            key: param.to_ascii_lowercase(),
            resource: resource.to_owned(),
            scopes: vec![param.clone()],
            param,
        }
    }

    fn for_scopes(list: &[String], cloud: &Cloud) -> Result<Self> {
        let mut scopes: Vec<String> = Vec::new();
        let mut resource: Option<(String, String)> = None; // (as given, comparable)
        let mut has_default = false;
        for scope in list.iter().flat_map(|s| s.split_whitespace()) {
            if OIDC_SCOPES.iter().any(|o| scope.eq_ignore_ascii_case(o)) {
                continue;
            }
            let (res, name) = split_scope(scope, cloud)?;
            let comparable = comparable(res, cloud);
            match &resource {
                None => resource = Some((res.to_owned(), comparable)),
                Some((first, seen)) if *seen != comparable => {
                    return Err(Error::MultipleResources {
                        first: shorten(first),
                        second: shorten(res),
                    });
                }
                Some(_) => {}
            }
            has_default |= name.eq_ignore_ascii_case(".default");
            if !scopes.iter().any(|s| s.eq_ignore_ascii_case(scope)) {
                scopes.push(scope.to_owned());
            }
        }
        let Some((resource, _)) = resource else {
            return Err(Error::NoScopes);
        };
        if has_default && scopes.len() > 1 {
            return Err(Error::DefaultWithOtherScopes { resource: shorten(&resource) });
        }
        let mut sorted: Vec<String> = scopes.iter().map(|s| s.to_ascii_lowercase()).collect();
        sorted.sort_unstable();
        Ok(Self { param: scopes.join(" "), key: sorted.join(" "), resource, scopes })
    }

    /// The resource the scopes belong to, as written (`https://graph.microsoft.com`,
    /// `api://...`).
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The scopes, in the order given, without duplicates.
    pub fn as_slice(&self) -> &[String] {
        &self.scopes
    }

    /// The `scope` form parameter: the scopes separated by spaces.
    pub fn scope_param(&self) -> &str {
        &self.param
    }

    /// The normalized scope set (lowercase, sorted): part of the cache key.
    pub(crate) fn cache_key(&self) -> &str {
        &self.key
    }
}

/// Splits a scope into its resource and its name. `api://x/read` -> (`api://x`,
/// `read`); `https://management.azure.com//.default` ->
/// (`https://management.azure.com/`, `.default`); `User.Read` -> (Graph, `User.Read`).
fn split_scope<'a>(scope: &'a str, cloud: &'a Cloud) -> Result<(&'a str, &'a str)> {
    let malformed = |reason| Error::MalformedScope { scope: shorten(scope), reason };
    let after_scheme = scope.find("://").map_or(0, |i| i + 3);
    match scope[after_scheme..].rfind('/') {
        Some(i) => {
            let (res, name) = (&scope[..after_scheme + i], &scope[after_scheme + i + 1..]);
            if name.is_empty() {
                return Err(malformed("the scope has no name after the resource"));
            }
            if res.len() <= after_scheme {
                return Err(malformed("the scope has no resource before its name"));
            }
            Ok((res, name))
        }
        None if after_scheme > 0 => Err(malformed(
            "a resource identifier is not a scope: pass it as a resource (Target::Resource) to request `<resource>/.default`",
        )),
        None => Ok((cloud.graph_base(), scope)),
    }
}

/// A resource identifier in the form used to compare resources: lowercase,
/// without trailing slashes, and Microsoft Graph's app id as Graph's URL.
fn comparable(resource: &str, cloud: &Cloud) -> String {
    let r = resource.trim_end_matches('/');
    if r.eq_ignore_ascii_case(entra_core::GRAPH_APP_ID) {
        return cloud.graph_base().to_ascii_lowercase();
    }
    r.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(t: impl Into<Target>) -> Result<Scopes> {
        Scopes::build(&t.into(), &Cloud::Public)
    }

    #[test]
    fn resources_become_default() {
        for (resource, param) in [
            ("https://graph.microsoft.com", "https://graph.microsoft.com/.default"),
            ("https://management.azure.com/", "https://management.azure.com//.default"),
            (
                "api://6e74172b-be56-4843-9ff4-e66a39bb12e3",
                "api://6e74172b-be56-4843-9ff4-e66a39bb12e3/.default",
            ),
            (
                "6e74172b-be56-4843-9ff4-e66a39bb12e3",
                "6e74172b-be56-4843-9ff4-e66a39bb12e3/.default",
            ),
            (" api://x/.default ", "api://x/.default"),
        ] {
            let s = build(resource).unwrap();
            assert_eq!(s.scope_param(), param, "{resource}");
            assert_eq!(s.as_slice(), [param]);
        }
        assert_eq!(
            build("https://management.azure.com/").unwrap().resource(),
            "https://management.azure.com/"
        );
    }

    #[test]
    fn empty_and_malformed_resources_are_refused() {
        assert!(matches!(build(""), Err(Error::NoScopes)));
        assert!(matches!(build("  "), Err(Error::NoScopes)));
        assert!(matches!(build("api://x read"), Err(Error::MalformedScope { .. })));
    }

    #[test]
    fn explicit_scopes_of_one_resource() {
        let s = build(["https://graph.microsoft.com/User.Read", "Mail.Read", "offline_access"])
            .unwrap();
        assert_eq!(s.scope_param(), "https://graph.microsoft.com/User.Read Mail.Read");
        assert_eq!(s.resource(), "https://graph.microsoft.com");
        let s = build(["api://app/read api://app/write", "API://app/READ"]).unwrap();
        assert_eq!(s.as_slice(), ["api://app/read", "api://app/write"]);
        assert_eq!(s.cache_key(), "api://app/read api://app/write");
        let s = build(["https://management.azure.com//.default"]).unwrap();
        assert_eq!(s.resource(), "https://management.azure.com/");
        // Order does not change the cache key.
        assert_eq!(build(["b", "a"]).unwrap().cache_key(), build(["A", "B"]).unwrap().cache_key());
    }

    #[test]
    fn bare_scopes_are_graph_of_the_configured_cloud() {
        let s = Scopes::build(&Target::from(["User.Read"]), &Cloud::UsGovernment).unwrap();
        assert_eq!(s.resource(), "https://graph.microsoft.us");
        assert!(
            Scopes::build(
                &Target::from(["User.Read", "https://graph.microsoft.us/Mail.Read"]),
                &Cloud::UsGovernment
            )
            .is_ok()
        );
        assert!(matches!(
            Scopes::build(
                &Target::from(["User.Read", "https://graph.microsoft.com/Mail.Read"]),
                &Cloud::UsGovernment
            ),
            Err(Error::MultipleResources { .. })
        ));
        // Graph named by its app id is Graph too.
        let by_app_id = format!("{}/Mail.Read", entra_core::GRAPH_APP_ID);
        let gov = Cloud::UsGovernment;
        assert!(Scopes::build(&Target::from(["User.Read", by_app_id.as_str()]), &gov).is_ok());
    }

    #[test]
    fn refusals() {
        assert!(matches!(build(Vec::<String>::new()), Err(Error::NoScopes)));
        assert!(matches!(build(["openid", "profile", "offline_access"]), Err(Error::NoScopes)));
        assert!(matches!(
            build(["User.Read", "api://other/read"]),
            Err(Error::MultipleResources { .. })
        ));
        assert!(matches!(build(["api://a/x", "api://b/x"]), Err(Error::MultipleResources { .. })));
        assert!(matches!(
            build(["api://a/.default", "api://a/read"]),
            Err(Error::DefaultWithOtherScopes { .. })
        ));
        assert!(matches!(
            build([".default", "User.Read"]),
            Err(Error::DefaultWithOtherScopes { .. })
        ));
        assert!(matches!(build(["api://a/"]), Err(Error::MalformedScope { .. })));
        assert!(matches!(
            build(["https://graph.microsoft.com"]),
            Err(Error::MalformedScope { .. })
        ));
        assert!(matches!(build(["/read"]), Err(Error::MalformedScope { .. })));
        // Passing cases next to each refusal.
        assert!(build(["api://a/.default"]).is_ok());
        assert!(build(["api://a/.default", "openid"]).is_ok());
        assert!(build(["api://a/x", "api://a/y"]).is_ok());
    }

    #[test]
    fn long_input_is_shortened_in_errors() {
        let long = format!("api://{}/x", "a".repeat(5000));
        let e = build([long.as_str(), "User.Read"]).unwrap_err();
        assert!(e.to_string().len() < 400, "{e}");
    }
}
