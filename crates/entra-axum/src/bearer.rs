//! The bearer-token middleware: `BearerLayer` and its service `Bearer<S>`.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use axum::body::{Body, Bytes, HttpBody};
use axum::response::Response;
use entra_core::{
    AuthError as _, EntraClaims, SeamError, TokenExchanger, TokenValidator, ValidatedToken,
};
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Request};
use tower_layer::Layer;
use tower_service::Service;

use crate::challenge::{Challenger, Refusal};
use crate::future::BearerFuture;

/// The largest `Authorization` header read, in bytes (16 KiB). Entra access
/// tokens are a few kilobytes, even with 200 groups.
pub const MAX_AUTHORIZATION_BYTES: usize = 16 * 1024;

/// The scopes or app roles a route requires: any one of them is enough.
#[derive(Clone, Debug, Default)]
pub(crate) struct Requirement {
    scopes: Vec<String>,
    roles: Vec<String>,
}

impl Requirement {
    fn is_empty(&self) -> bool {
        self.scopes.is_empty() && self.roles.is_empty()
    }

    fn satisfied_by(&self, claims: &EntraClaims) -> bool {
        self.is_empty()
            || self.scopes.iter().any(|s| claims.has_scope(s))
            || self.roles.iter().any(|r| claims.has_role(r))
    }
}

/// The layer's settings, shared by its services and their response futures
/// (which complete challenges raised behind the layer), and reached by the
/// extractors through [`LayerContext`].
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) validator: Arc<dyn TokenValidator>,
    pub(crate) exchanger: Option<Arc<dyn TokenExchanger>>,
    pub(crate) challenger: Challenger,
    requirement: Requirement,
    optional: bool,
}

/// The request extension through which extractors reach the layer: its
/// exchanger, and that it let through a request without credentials. Only then
/// is it inserted (the validated token is an extension of its own, and
/// challenges raised behind the layer are completed on the way out), so that a
/// request with a token and no exchanger to carry costs one insertion.
#[derive(Clone)]
pub(crate) struct LayerContext {
    pub(crate) shared: Arc<Shared>,
}

/// A tower [`Layer`] that admits a request only with a valid Entra access token
/// in exactly one `Authorization: Bearer` header, and puts the
/// [`ValidatedToken`](entra_core::ValidatedToken) in the request extensions (read it with the
/// [`Caller`](crate::Caller) extractor and [`Caller::token`](crate::Caller::token),
/// or as `Extension<ValidatedToken>`).
///
/// Works on any axum `Router`, route or tower service whose response body is an
/// HTTP body (rmcp's streamable HTTP service included). Responses follow RFC 6750
/// and RFC 9728:
///
/// | request | response |
/// |---|---|
/// | no `Authorization`, or another scheme | 401, `WWW-Authenticate: Bearer realm="...", resource_metadata="..."` (no `error`) |
/// | two `Authorization` headers, a malformed value, over 16 KiB, a refused token | 401, `error="invalid_token"` with a fixed `error_description` |
/// | token without a required scope or role | 403, `error="insufficient_scope"`, `scope="..."` |
/// | signing keys unavailable | 503 with `Retry-After`, never 401 |
/// | a handler returns an [`Error`](crate::Error) holding a claims challenge | 401, `error="insufficient_claims"`, `claims="<base64>"` |
///
/// Tokens in the query string (`access_token=`) or a form body are never read.
/// A malformed value is one whose token is not an RFC 9110 `token68`; the check
/// is skipped only for a token the validator accepts at once
/// ([`TokenValidator::validate_cached`](entra_core::TokenValidator::validate_cached),
/// which may accept only `token68` bytes: a token it validated before).
/// `resource_metadata` appears when the layer comes from
/// [`ProtectedResource::bearer`](crate::ProtectedResource::bearer) or
/// [`BearerLayer::resource_metadata`] is set.
///
/// Challenges raised behind the layer (a handler's [`Error`](crate::Error), a
/// refusal of the [`Caller`](crate::Caller) extractor) get the layer's realm
/// and `resource_metadata` on the way out, from a response extension: a
/// middleware between the layer and the handler that replaces the response
/// must keep its extensions. With nested bearer layers, the innermost one
/// decides, and its exchanger (or none) is the one [`Caller`](crate::Caller) uses.
///
/// # Example
/// ```
/// # async fn demo(validator: std::sync::Arc<dyn entra_core::TokenValidator>) {
/// use axum::{Router, routing::get};
/// use entra_axum::{BearerLayer, Caller};
///
/// async fn me(caller: Caller) -> String {
///     caller.key().to_string()
/// }
/// let app: Router = Router::new()
///     .route("/me", get(me))
///     .layer(BearerLayer::new(validator).require_scope("access_as_user"));
/// # }
/// ```
#[derive(Clone)]
pub struct BearerLayer {
    shared: Arc<Shared>,
}

impl fmt::Debug for BearerLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.shared;
        f.debug_struct("BearerLayer")
            .field("realm", &s.challenger.realm())
            .field("required_scopes", &s.requirement.scopes)
            .field("required_roles", &s.requirement.roles)
            .field("optional", &s.optional)
            .field("exchanger", &s.exchanger.is_some())
            .finish_non_exhaustive()
    }
}

impl BearerLayer {
    /// A layer validating tokens with `validator` (for example an
    /// `entra_jwks::Validator` in an `Arc`), with realm `api`, no required scope
    /// or role, and no exchanger.
    pub fn new(validator: Arc<dyn TokenValidator>) -> Self {
        Self {
            shared: Arc::new(Shared {
                validator,
                exchanger: None,
                challenger: Challenger::new("api"),
                requirement: Requirement::default(),
                optional: false,
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Shared)) -> Self {
        f(Arc::make_mut(&mut self.shared));
        self
    }

    /// The `realm` of the challenges. Defaults to `api`, or the resource URL for
    /// a [`ProtectedResource`](crate::ProtectedResource).
    #[must_use]
    pub fn realm(self, realm: impl Into<String>) -> Self {
        let realm: Arc<str> = realm.into().into();
        self.edit(|s| s.challenger = s.challenger.clone().with_realm(realm))
    }

    /// The absolute URL of the RFC 9728 metadata, sent as `resource_metadata` in
    /// every challenge. Defaults to none (set by
    /// [`ProtectedResource::bearer`](crate::ProtectedResource::bearer)).
    #[must_use]
    pub fn resource_metadata(self, url: impl Into<String>) -> Self {
        let url: Arc<str> = url.into().into();
        self.edit(|s| s.challenger = s.challenger.clone().with_resource_metadata(url))
    }

    /// Fully qualifies the scope names in `insufficient_scope` challenges
    /// (`api://<client-id>/`). Defaults to none, or the App ID URI for layers
    /// built by [`EntraAuth`](crate::EntraAuth).
    #[must_use]
    pub fn scope_prefix(self, prefix: impl Into<String>) -> Self {
        let prefix: Arc<str> = prefix.into().into();
        self.edit(|s| s.challenger = s.challenger.clone().with_scope_prefix(Some(prefix)))
    }

    /// Requires the delegated scope `scope` (in `scp`). Several required scopes
    /// and roles are alternatives: any one of them admits the request. Without
    /// one, the answer is 403 `insufficient_scope`. Defaults to none.
    #[must_use]
    pub fn require_scope(self, scope: impl Into<String>) -> Self {
        let scope = scope.into();
        self.edit(|s| s.requirement.scopes.push(scope))
    }

    /// Requires the app role `role` (in `roles`: application permissions or the
    /// user's app roles), as an alternative to the required scopes. Defaults to none.
    #[must_use]
    pub fn require_role(self, role: impl Into<String>) -> Self {
        let role = role.into();
        self.edit(|s| s.requirement.roles.push(role))
    }

    /// Lets requests without any bearer credentials through (read them with
    /// `Option<Caller>`); a token that is present is still validated and a bad
    /// one refused. Defaults to off: no credentials is a 401.
    #[must_use]
    pub fn optional(self) -> Self {
        self.edit(|s| s.optional = true)
    }

    /// The exchanger [`Caller::on_behalf_of`](crate::Caller::on_behalf_of) uses
    /// (for example an `entra_obo::Obo` in an `Arc`). Defaults to none, or the
    /// configured one for layers built by [`EntraAuth`](crate::EntraAuth).
    #[must_use]
    pub fn exchanger(self, exchanger: Arc<dyn TokenExchanger>) -> Self {
        self.edit(|s| s.exchanger = Some(exchanger))
    }
}

impl<S> Layer<S> for BearerLayer {
    type Service = Bearer<S>;

    fn layer(&self, inner: S) -> Bearer<S> {
        Bearer { inner, shared: self.shared.clone() }
    }
}

/// The service of [`BearerLayer`].
#[derive(Clone)]
pub struct Bearer<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Bearer<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S> fmt::Debug for Bearer<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bearer").finish_non_exhaustive()
    }
}

impl<S, B, ResBody> Service<Request<B>> for Bearer<S>
where
    S: Service<Request<B>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
    ResBody: HttpBody<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BearerFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let shared = &self.shared;
        let (cached, offset) = match bearer_credentials(req.headers()) {
            Err(refusal) => return BearerFuture::refused(shared.challenger.response(&refusal)),
            Ok(Some(credentials)) => {
                // A validator with the answer at hand (a token it validated
                // before, the same bytes) gives it here: no future, no boxed
                // validation, and, for an acceptance, no pass over the token's
                // bytes, since it vouches for their syntax (`validate_cached`'s
                // contract). A malformed token is refused as such, whatever else
                // the validator would say of it.
                let validator: &dyn TokenValidator = &*shared.validator;
                let cached = validator.validate_cached(credentials.token);
                if !matches!(cached, Some(Ok(_)))
                    && let Err(refusal) = credentials.check_syntax()
                {
                    return BearerFuture::refused(shared.challenger.response(&refusal));
                }
                (cached, credentials.offset)
            }
            Ok(None) if shared.optional => {
                req.extensions_mut().insert(LayerContext { shared: shared.clone() });
                return BearerFuture::inner(self.inner.call(req), shared.clone());
            }
            Ok(None) => {
                return BearerFuture::refused(shared.challenger.response(&Refusal::NoCredentials));
            }
        };
        // The ready inner service is then called at once.
        if let Some(result) = cached {
            return match admit(shared, &mut req, result) {
                None => BearerFuture::inner(self.inner.call(req), shared.clone()),
                Some(refusal) => BearerFuture::refused(refusal),
            };
        }
        // Otherwise the validation owns the request while it runs. A validator
        // that answers at once is done after this one poll, and the ready inner
        // service is called here, with no clone of it and no boxed future around
        // its future. The waker is not needed: a validation still under way (keys
        // being fetched) is polled again, with the task's waker, by the response
        // future.
        let mut admission = Box::pin(validate(shared.clone(), req, offset));
        match admission.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Admission::Refused(response)) => BearerFuture::refused(response),
            Poll::Ready(Admission::Admitted(req, shared)) => {
                BearerFuture::inner(self.inner.call(req), shared)
            }
            Poll::Pending => {
                // The ready service goes into the future; a clone stays for the next call.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                BearerFuture::validating(Box::pin(async move {
                    match admission.await {
                        Admission::Refused(response) => Ok(response),
                        Admission::Admitted(req, shared) => {
                            let response = inner.call(req).await?.map(Body::new);
                            Ok(complete_challenge(&shared.challenger, response))
                        }
                    }
                }))
            }
        }
    }
}

/// The refusal of a token that is not a `token68` (or not text).
const MALFORMED: Refusal = Refusal::InvalidToken("the bearer token is malformed");

/// The outcome of validating a request's bearer token.
enum Admission<B> {
    /// The response to send instead of calling the inner service.
    Refused(Response),
    /// The request, with the validated token (and the layer context) in its
    /// extensions, for the inner service.
    Admitted(Request<B>, Arc<Shared>),
}

/// A token checked by [`BearerToken::check_syntax`] (a token68, so ASCII) as
/// text. The UTF-8 check is vectorized: it runs over the whole token of every
/// request that the validator has no answer at hand for.
fn as_text(token: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(token).ok()
}

/// The token found at `offset` in the `Authorization` value, as text. The value
/// was checked by [`bearer_credentials`] and [`BearerToken::check_syntax`] as
/// one header holding a token68 (ASCII) from `offset` on, so this is `None`
/// only if that check was skipped.
fn token_at(headers: &HeaderMap, offset: usize) -> Option<&str> {
    as_text(headers.get(AUTHORIZATION)?.as_bytes().get(offset..)?)
}

/// Validates the token found at `offset` (see [`token_at`]), then [`admit`]s
/// the request.
async fn validate<B>(shared: Arc<Shared>, mut req: Request<B>, offset: usize) -> Admission<B> {
    let result = {
        let Some(token) = token_at(req.headers(), offset) else {
            return Admission::Refused(shared.challenger.response(&MALFORMED));
        };
        // Through `&dyn TokenValidator`: called on the `Arc`, the method would be
        // the blanket `impl TokenValidator for Arc<T>`, whose boxed future boxes
        // the validator's own one (two allocations instead of one).
        let validator: &dyn TokenValidator = &*shared.validator;
        validator.validate(token).await
    };
    match admit(&shared, &mut req, result) {
        None => Admission::Admitted(req, shared),
        Some(refusal) => Admission::Refused(refusal),
    }
}

/// Decides on a request from its token's validation: the refusal (invalid
/// token, keys unavailable, a required scope or role missing), or `None` after
/// putting the token (and, with an exchanger, the layer context) in the
/// request's extensions.
fn admit<B>(
    shared: &Arc<Shared>,
    req: &mut Request<B>,
    result: Result<ValidatedToken, SeamError>,
) -> Option<Response> {
    let validated = match result {
        Ok(v) => v,
        Err(e) => {
            let refusal = Refusal::from_validation(e.get_ref());
            tracing::debug!(code = e.code(), "bearer token refused");
            return Some(shared.challenger.response(&refusal));
        }
    };
    if !shared.requirement.satisfied_by(validated.claims()) {
        let scopes = shared.requirement.scopes.clone();
        return Some(shared.challenger.response(&Refusal::InsufficientScope { scopes }));
    }
    let extensions = req.extensions_mut();
    // The token, for `Caller` and for any service behind the layer
    // (`Extension<ValidatedToken>`, rmcp's request parts).
    extensions.insert(validated);
    if shared.exchanger.is_some() {
        extensions.insert(LayerContext { shared: shared.clone() });
    } else {
        // An outer bearer layer's context must not lend its exchanger to this
        // layer's callers (no allocation: a lookup in the map).
        extensions.remove::<LayerContext>();
    }
    None
}

/// A challenge raised behind the layer (an [`Error`](crate::Error) response of
/// a handler, a refusal of the [`Caller`](crate::Caller) extractor) gets this
/// layer's realm and `resource_metadata`.
pub(crate) fn complete_challenge(challenger: &Challenger, mut response: Response) -> Response {
    if let Some(crate::error::PendingChallenge(refusal)) =
        response.extensions_mut().remove::<crate::error::PendingChallenge>()
        && let Some(value) = challenger.header_value(&refusal)
        && let Ok(value) = HeaderValue::from_str(&value)
    {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    response
}

/// The bearer token of a request's single `Authorization` header, running from
/// `offset` to the end of the header value: not empty, its syntax not checked
/// yet ([`BearerToken::check_syntax`]).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BearerToken<'a> {
    pub(crate) token: &'a [u8],
    pub(crate) offset: usize,
}

impl BearerToken<'_> {
    /// RFC 6750's syntax for the token: an RFC 9110 `token68` (so ASCII).
    pub(crate) fn check_syntax(&self) -> Result<(), Refusal> {
        if is_token68(self.token) { Ok(()) } else { Err(malformed(self.token)) }
    }
}

/// The refusal of a malformed token: it names the header when the token is not
/// even visible ASCII (the header is not text).
fn malformed(token: &[u8]) -> Refusal {
    // What `HeaderValue::to_str` accepts; the scheme and spaces before the token
    // always are.
    if token.iter().all(|b| (b' '..0x7f).contains(b) || *b == b'\t') {
        MALFORMED
    } else {
        Refusal::InvalidToken("the Authorization header is malformed")
    }
}

/// The bearer credentials of a request: `Ok(None)` when there are none (no
/// `Authorization` header, or another scheme), a refusal when the header is
/// doubled, too large, or has the scheme and no token. The token's own syntax is
/// checked apart ([`BearerToken::check_syntax`]), so that a validator can vouch
/// for a token it validated before without a pass over its bytes.
pub(crate) fn bearer_credentials(headers: &HeaderMap) -> Result<Option<BearerToken<'_>>, Refusal> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(Refusal::InvalidToken("more than one Authorization header"));
    }
    if value.len() > MAX_AUTHORIZATION_BYTES {
        return Err(Refusal::InvalidToken("the Authorization header is too large"));
    }
    let bytes = value.as_bytes();
    let (scheme, rest) = match bytes.iter().position(|b| *b == b' ') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &b""[..]),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        if value.to_str().is_err() {
            return Err(Refusal::InvalidToken("the Authorization header is malformed"));
        }
        // Another scheme (Basic, DPoP, ...): no bearer credentials at all.
        return Ok(None);
    }
    let start = rest.iter().position(|b| *b != b' ').unwrap_or(rest.len());
    let token = &rest[start..];
    if token.is_empty() {
        return Err(MALFORMED);
    }
    Ok(Some(BearerToken { token, offset: bytes.len() - token.len() }))
}

/// Whether `b` is a byte of RFC 9110 `token68` before its `=` padding:
/// `ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/"`. Comparisons only, no
/// table and no branch, so that the check of a whole token is vectorized; as
/// few as possible, since they run for every byte of a 2-3 KB token.
#[inline]
fn is_token68_byte(b: u8) -> bool {
    // `| 0x20` maps `A-Z` onto `a-z` and no other byte into that range.
    let alpha = (b | 0x20).wrapping_sub(b'a') < 26;
    // `-`, `.`, `/` and the digits are one run of bytes, 0x2D to 0x39.
    let digit_dash_dot_slash = b.wrapping_sub(b'-') < 13;
    alpha | digit_dash_dot_slash | (b == b'_') | (b == b'~') | (b == b'+')
}

/// RFC 9110 `token68`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
///
/// Runs on every request over a token of a few kilobytes. An Entra token (a JWS
/// compact serialization: base64url parts joined by dots) is recognized by a
/// vectorized base64url check of its parts ([`is_base64url_parts`]), whose
/// alphabet and dots are all `token68` bytes; anything else goes through the
/// rule byte by byte ([`is_token68_bytes`]).
fn is_token68(s: &[u8]) -> bool {
    !s.is_empty() && (is_base64url_parts(s) || is_token68_bytes(s))
}

/// Whether `s` is three or more parts joined by dots, the first and last parts
/// without dots and the middle one (from the first dot to the last) a single
/// part, each canonical unpadded base64url. `false` only means "not recognized
/// here": the caller then applies the byte rule.
fn is_base64url_parts(s: &[u8]) -> bool {
    let (Some(first), Some(last)) = (memchr::memchr(b'.', s), memchr::memrchr(b'.', s)) else {
        return false;
    };
    if first == last {
        return false;
    }
    let b64 = base64_simd::URL_SAFE_NO_PAD;
    [&s[..first], &s[first + 1..last], &s[last + 1..]].iter().all(|part| b64.check(part).is_ok())
}

/// [`is_token68`] byte by byte: the bytes are checked 32 at a time without an
/// early exit inside a block (vectorized), instead of one table lookup and
/// branch per byte.
fn is_token68_bytes(s: &[u8]) -> bool {
    let end = s.iter().rposition(|b| *b != b'=').map_or(0, |i| i + 1);
    if end == 0 {
        return false;
    }
    let mut blocks = s[..end].chunks_exact(32);
    let blocks_ok = blocks.all(|block| block.iter().fold(true, |ok, b| ok & is_token68_byte(*b)));
    blocks_ok && blocks.remainder().iter().all(|b| is_token68_byte(*b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
        }
        h
    }

    /// Both checks, as the layer applies them to a token it has no answer for.
    fn bearer_token(headers: &HeaderMap) -> Result<Option<BearerToken<'_>>, Refusal> {
        let credentials = bearer_credentials(headers)?;
        if let Some(c) = &credentials {
            c.check_syntax()?;
        }
        Ok(credentials)
    }

    #[test]
    fn header_rules() {
        let token = |token: &'static [u8], offset| Ok(Some(BearerToken { token, offset }));
        assert_eq!(bearer_token(&headers(&[])), Ok(None));
        assert_eq!(bearer_token(&headers(&[b"Bearer abc.def-_~+/="])), token(b"abc.def-_~+/=", 7));
        assert_eq!(bearer_token(&headers(&[b"bEaReR  abc"])), token(b"abc", 8));
        assert_eq!(bearer_token(&headers(&[b"Basic dXNlcjpwYXNz"])), Ok(None));
        assert_eq!(bearer_token(&headers(&[b"Bearerabc"])), Ok(None));
        for bad in
            [&b"Bearer"[..], b"Bearer ", b"Bearer a b", b"Bearer a,b", b"Bearer =", b"Bearer \xff"]
        {
            assert!(
                matches!(bearer_token(&headers(&[bad])), Err(Refusal::InvalidToken(_))),
                "{bad:?}"
            );
        }
        assert_eq!(bearer_token(&headers(&[b"Bearer a b"])), Err(MALFORMED));
        assert_eq!(
            bearer_token(&headers(&[b"Bearer a\xffb"])),
            Err(Refusal::InvalidToken("the Authorization header is malformed")),
            "a header that is not text is named"
        );
        // The syntax is checked apart: credentials of any bytes are found.
        let odd = headers(&[b"Bearer a b"]);
        assert_eq!(bearer_credentials(&odd), token(b"a b", 7));
        assert!(matches!(
            bearer_token(&headers(&[b"Bearer a", b"Bearer a"])),
            Err(Refusal::InvalidToken("more than one Authorization header"))
        ));
        let big = format!("Bearer {}", "a".repeat(MAX_AUTHORIZATION_BYTES));
        assert!(matches!(
            bearer_token(&headers(&[big.as_bytes()])),
            Err(Refusal::InvalidToken("the Authorization header is too large"))
        ));
    }

    #[test]
    fn token68_bytes_and_blocks() {
        for b in 0..=255u8 {
            let expected = b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
            assert_eq!(is_token68_byte(b), expected, "byte {b:#04x}");
        }
        // A bad byte anywhere in a long token: in a 32-byte block or the remainder.
        let good = vec![b'a'; 100];
        assert!(is_token68_bytes(&good));
        for at in [0, 31, 32, 63, 64, 95, 96, 99] {
            for bad in [b' ', b',', b'=', b'{', b'@', 0x80] {
                let mut t = good.clone();
                t[at] = bad;
                let ok = bad == b'=' && at == 99;
                assert_eq!(is_token68(&t), ok, "{bad:#04x} at {at}");
            }
        }
        assert!(is_token68(b"abc=="));
        assert!(!is_token68(b"=="));
        assert!(!is_token68(b""));
    }

    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    /// The rule of RFC 9110, written the plainest way, for comparison.
    fn reference_token68(s: &[u8]) -> bool {
        let end = s.iter().rposition(|b| *b != b'=').map_or(0, |i| i + 1);
        end > 0 && s[..end].iter().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(b))
    }

    #[test]
    fn token68_agrees_with_the_rule_on_jws_shaped_and_random_input() {
        // Bytes that matter to one rule or the other, in JWS-like shapes (dots,
        // parts of every length modulo 4, padding, bytes outside base64url).
        let alphabet = b"aZ09-_.=+/~ ,\x80\x00\x7f";
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut recognized = 0;
        for _ in 0..200_000 {
            // One to five parts of canonical base64url, joined by dots, with up
            // to two bytes replaced half of the time.
            let mut t = Vec::new();
            for part in 0..=(next() % 5) {
                if part > 0 {
                    t.push(b'.');
                }
                let raw: Vec<u8> = (0..next() % 20).map(|_| next() as u8).collect();
                t.extend(URL_SAFE_NO_PAD.encode(raw).bytes());
            }
            for _ in 0..(next() % 4).saturating_sub(1) {
                if !t.is_empty() {
                    let at = (next() as usize) % t.len();
                    t[at] = alphabet[(next() as usize) % alphabet.len()];
                }
            }
            recognized += usize::from(is_base64url_parts(&t));
            assert_eq!(is_token68(&t), reference_token68(&t), "{t:?}");
        }
        assert!(recognized > 10_000, "the base64url path was taken {recognized} times");
        // A real token's shape, and a bad byte at every position of it.
        let jws = format!("{}.{}.{}", "e".repeat(36), "Q".repeat(2000), "A".repeat(342));
        assert!(is_base64url_parts(jws.as_bytes()) && is_token68(jws.as_bytes()));
        for at in 0..jws.len() {
            for bad in [b' ', b',', b'=', 0x80] {
                let mut t = jws.clone().into_bytes();
                t[at] = bad;
                assert_eq!(is_token68(&t), reference_token68(&t), "{bad:#04x} at {at}");
            }
        }
    }

    #[test]
    fn requirement_is_any_of() {
        let claims: EntraClaims =
            serde_json::from_value(serde_json::json!({"scp": "a b", "roles": ["R"]})).unwrap();
        let r = Requirement::default();
        assert!(r.satisfied_by(&claims));
        let r = Requirement { scopes: vec!["x".into(), "b".into()], roles: vec![] };
        assert!(r.satisfied_by(&claims));
        let r = Requirement { scopes: vec!["x".into()], roles: vec!["R".into()] };
        assert!(r.satisfied_by(&claims));
        let r = Requirement { scopes: vec!["x".into()], roles: vec!["r".into()] };
        assert!(!r.satisfied_by(&claims));
    }
}
