//! The `Caller` extractor: who called a bearer-protected route.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::Response;
use entra_core::{
    AccessToken, EntraClaims, Groups, IdentityKey, Target, TenantId, TokenExchanger, ValidatedToken,
};
use http::request::Parts;

use crate::Error;
use crate::bearer::LayerContext;
use crate::challenge::{Challenger, Refusal};
use crate::error::pending_challenge;

/// Whether a token was issued to a user (delegated) or to an application acting
/// as itself (app-only, client credentials).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum CallerKind {
    /// A user's token, obtained by a client app on the user's behalf (`scp`).
    Delegated,
    /// An application's own token (`idtyp: app`, or `roles` without `scp`).
    AppOnly,
}

/// The caller of a route under a [`BearerLayer`](crate::BearerLayer): the
/// validated token and what it says.
///
/// As an extractor, `Caller` answers the layer's 401 challenge when the request
/// has no token (only possible with [`BearerLayer::optional`](crate::BearerLayer::optional));
/// use `Option<Caller>` on such routes. Outside any bearer layer it is a 500 (a
/// wiring mistake, logged).
///
/// Users and applications are keyed by [`Caller::key`] (`tid`, `oid`): names and
/// sign-in names are mutable and chosen by each tenant's administrators.
/// `Debug` prints only the key.
#[derive(Clone)]
pub struct Caller {
    token: ValidatedToken,
    key: Arc<IdentityKey>,
    exchanger: Option<Arc<dyn TokenExchanger>>,
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller").field("key", &*self.key).finish_non_exhaustive()
    }
}

impl Caller {
    /// The caller of `token`; `None` when the token has no identity (a GUID
    /// `tid` and an `oid`).
    pub fn from_token(token: ValidatedToken) -> Option<Self> {
        let key = identity_key(token.claims())?;
        Some(Self { token, key, exchanger: None })
    }

    /// The stable identity: (`tid`, `oid`).
    pub fn key(&self) -> &IdentityKey {
        &self.key
    }

    /// The caller's tenant.
    pub fn tenant_id(&self) -> &TenantId {
        &self.key.tid
    }

    /// The object id of the user or service principal.
    pub fn object_id(&self) -> &str {
        &self.key.oid
    }

    /// The display name (`name`), when the token carries it.
    pub fn name(&self) -> Option<&str> {
        self.claims().name.as_deref()
    }

    /// The sign-in name (`preferred_username`, `upn`, ...). Mutable: display it,
    /// never key anything by it.
    pub fn username(&self) -> Option<&str> {
        self.claims().username()
    }

    /// The delegated scopes (`scp`).
    pub fn scopes(&self) -> BTreeSet<&str> {
        self.claims().scopes()
    }

    /// Whether `scp` contains `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.claims().has_scope(scope)
    }

    /// The app roles (`roles`).
    pub fn roles(&self) -> &[String] {
        self.claims().roles()
    }

    /// Whether `roles` contains `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.claims().has_role(role)
    }

    /// The groups, or the overage marker (resolve those with entra-teams).
    pub fn groups(&self) -> Groups<'_> {
        self.claims().groups()
    }

    /// Delegated or app-only.
    pub fn kind(&self) -> CallerKind {
        if self.claims().is_app_only() { CallerKind::AppOnly } else { CallerKind::Delegated }
    }

    /// Whether the token is an application's own (no user).
    pub fn is_app_only(&self) -> bool {
        self.kind() == CallerKind::AppOnly
    }

    /// The client application that obtained the token (`azp` or `appid`).
    pub fn client_app_id(&self) -> Option<&str> {
        self.claims().caller_app_id()
    }

    /// Every validated claim.
    pub fn claims(&self) -> &EntraClaims {
        self.token.claims()
    }

    /// The validated token: the assertion for On-Behalf-Of.
    pub fn token(&self) -> &ValidatedToken {
        &self.token
    }

    /// Refuses the caller unless it has `scope` (in `scp`): for checks finer than
    /// a route's [`BearerLayer::require_scope`](crate::BearerLayer::require_scope).
    ///
    /// # Errors
    /// [`Error::InsufficientScope`], a 403 `insufficient_scope` challenge.
    pub fn require_scope(&self, scope: &str) -> Result<(), Error> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(Error::InsufficientScope { scopes: vec![scope.to_owned()] })
        }
    }

    /// Refuses the caller unless it has app role `role`.
    ///
    /// # Errors
    /// [`Error::InsufficientScope`] (with no scope to name).
    pub fn require_role(&self, role: &str) -> Result<(), Error> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(Error::InsufficientScope { scopes: Vec::new() })
        }
    }

    /// A token for `target` (a resource such as `https://graph.microsoft.com`, or
    /// scopes of one resource) on behalf of this caller, through the layer's
    /// exchanger (On-Behalf-Of, cached).
    ///
    /// # Errors
    /// [`Error::NoExchanger`] without an exchanger; [`Error::Exchange`] when the
    /// exchange fails. Returned from the handler, a Conditional Access claims
    /// challenge becomes a 401 `insufficient_claims` for the client to answer.
    pub async fn on_behalf_of(&self, target: impl Into<Target>) -> Result<AccessToken, Error> {
        // Through `&dyn`, not the `Arc` (whose blanket impl would box twice).
        let exchanger: &dyn TokenExchanger =
            &**self.exchanger.as_ref().ok_or(Error::NoExchanger)?;
        Ok(exchanger.exchange(&self.token, &target.into()).await?)
    }
}

thread_local! {
    /// The identity key built last on this thread. A caller's requests usually
    /// come one after another: the next one with the same `tid` and `oid` shares
    /// this key instead of building its two strings again.
    static LAST_KEY: RefCell<Option<Arc<IdentityKey>>> = const { RefCell::new(None) };
}

/// `claims.identity_key()`, shared with the previous caller on this thread when
/// it has the same identity.
fn identity_key(claims: &EntraClaims) -> Option<Arc<IdentityKey>> {
    let last = LAST_KEY
        .try_with(|last| last.try_borrow().ok().and_then(|k| k.clone()))
        .ok()
        .flatten()
        .filter(|k| k.is_of(claims));
    if last.is_some() {
        return last;
    }
    let key = Arc::new(claims.identity_key()?);
    // Unavailable while the thread exits: then nothing is kept.
    let _ = LAST_KEY.try_with(|last| {
        if let Ok(mut last) = last.try_borrow_mut() {
            *last = Some(key.clone());
        }
    });
    Some(key)
}

fn from_parts(parts: &Parts) -> Result<Option<Caller>, Box<Response>> {
    let context = parts.extensions.get::<LayerContext>();
    // The layer's token, or one a host's own middleware put in the extensions.
    let Some(token) = parts.extensions.get::<ValidatedToken>() else {
        if context.is_none() {
            tracing::error!("the Caller extractor is used on a route without a BearerLayer");
            let refusal = Refusal::Internal("the bearer layer is not installed on this route");
            return Err(Box::new(Challenger::new("api").response(&refusal)));
        }
        return Ok(None);
    };
    let Some(mut caller) = Caller::from_token(token.clone()) else {
        let refusal = Refusal::InvalidToken("the access token has no tid and oid");
        return Err(Box::new(pending_challenge(refusal)));
    };
    caller.exchanger = context.and_then(|c| c.shared.exchanger.clone());
    Ok(Some(caller))
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        match from_parts(parts).map_err(|r| *r)? {
            Some(caller) => Ok(caller),
            None => Err(pending_challenge(Refusal::NoCredentials)),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Response> {
        from_parts(parts).map_err(|r| *r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(tid: Option<&str>, oid: Option<&str>) -> EntraClaims {
        serde_json::from_value(serde_json::json!({ "tid": tid, "oid": oid })).unwrap()
    }

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const OID: &str = "00000000-0000-0000-66f3-3332eca7ea81";

    #[test]
    fn the_shared_key_is_the_key_of_the_claims() {
        let cases = [
            (Some(TID), Some(OID)),
            (Some(TID), Some(OID)),
            (
                Some(" 72F988BF-86F1-41AF-91AB-2D7CD011DB47 "),
                Some("00000000-0000-0000-66F3-3332ECA7EA81"),
            ),
            (Some(TID), Some("another-oid")),
            (Some("9188040d-6c67-4c5b-b112-36a304b66dad"), Some(OID)),
            (Some(TID), Some(OID)),
            // No identity, also right after the same tid or oid was seen.
            (Some(TID), None),
            (None, Some(OID)),
            (Some("72f988bf-86f1-41af-91ab-2d7cd011db4"), Some(OID)),
            (Some("72f988bf-86f1-41af-91ab-2d7cd011db47x"), Some(OID)),
            (Some("contoso.onmicrosoft.com"), Some(OID)),
            (Some(TID), Some("")),
            (Some(TID), Some(OID)),
        ];
        for (tid, oid) in cases {
            let c = claims(tid, oid);
            assert_eq!(identity_key(&c).as_deref(), c.identity_key().as_ref(), "{tid:?} {oid:?}");
        }
        // Repeated identities share one key.
        let c = claims(Some(TID), Some(OID));
        assert!(Arc::ptr_eq(&identity_key(&c).unwrap(), &identity_key(&c).unwrap()));
    }

    #[test]
    fn a_token_a_host_put_in_the_extensions_is_a_caller() {
        let token = entra_core::dangerous::assume_validated(
            entra_core::Secret::new("a.b.c"),
            claims(Some(TID), Some(OID)),
        );
        let (mut parts, ()) = http::Request::new(()).into_parts();
        // No layer and no token: a wiring mistake, 500.
        let refused = from_parts(&parts).unwrap_err();
        assert_eq!(refused.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
        parts.extensions.insert(token);
        let caller = from_parts(&parts).unwrap().unwrap();
        assert_eq!(caller.object_id(), OID);
        assert_eq!(caller.tenant_id().as_str(), TID);
    }
}
