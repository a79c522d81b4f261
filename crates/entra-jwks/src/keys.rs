//! Signing keys: fetching a JWKS, parsing each key once, caching by `kid`,
//! scheduled and on-demand refresh with single-flight, and stale keys during an
//! outage.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use aws_lc_rs::signature::{
    self as sig, EcdsaVerificationAlgorithm, ParsedPublicKey, RsaParameters, RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entra_core::http::{EndpointKind, HttpClient, HttpErrorKind, HttpRequest};
use entra_core::{Clock, IssuerTemplate};
use serde::Deserialize;
use tracing::Instrument as _;

use crate::config::{Algorithm, Options};
use crate::error::{Error, JwksError, shorten};

/// Decodes a JWKS member's base64url, tolerating trailing `=` padding (some
/// key servers pad; the key itself is what the signature check relies on).
pub(crate) fn b64url(input: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(input.trim_end_matches('=')).ok()
}

/// Decodes a part of a compact JWS strictly (RFC 7515, section 2): the
/// URL-safe alphabet, no `=` padding, and only the canonical encoding (unused
/// trailing bits zero), so each token has exactly one spelling.
///
/// SIMD-decoded (`base64-simd`): the same rules as `base64`'s strict
/// `URL_SAFE_NO_PAD`, checked against it by a test over random inputs.
pub(crate) fn b64url_strict(input: &str) -> Option<Vec<u8>> {
    base64_simd::URL_SAFE_NO_PAD.decode_to_vec(input).ok()
}

/// Above this capacity the per-thread decoding buffer is not kept.
const SCRATCH_KEEP: usize = 16 * 1024;

thread_local! {
    /// Where [`with_b64url_strict`] decodes: one buffer per thread, reused,
    /// so that decoding a payload or a signature allocates nothing.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Decodes `input` as [`b64url_strict`] does and gives the bytes to `f`,
/// without allocating: the bytes live in a per-thread buffer (at most
/// [`SCRATCH_KEEP`] bytes are kept between calls). `None` when `input` is not
/// strict base64url.
pub(crate) fn with_b64url_strict<R>(input: &str, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    SCRATCH.with(|cell| {
        // A nested call (none today) decodes into a buffer of its own.
        let Ok(mut buf) = cell.try_borrow_mut() else {
            return b64url_strict(input).map(|bytes| f(&bytes));
        };
        buf.clear();
        let decoded =
            base64_simd::URL_SAFE_NO_PAD.decode_append(input, &mut *buf).ok().map(|()| f(&buf));
        if buf.capacity() > SCRATCH_KEEP {
            *buf = Vec::new();
        }
        decoded
    })
}

fn rsa_params(alg: Algorithm) -> Option<&'static RsaParameters> {
    Some(match alg {
        Algorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
        Algorithm::ES256 | Algorithm::ES384 => return None,
    })
}

/// The verification algorithm, JWK curve name and coordinate length of an EC
/// algorithm. JWS carries ECDSA signatures as fixed-width `r || s` (RFC 7518,
/// section 3.4).
fn ec_params(alg: Algorithm) -> Option<(&'static EcdsaVerificationAlgorithm, &'static str, usize)> {
    match alg {
        Algorithm::ES256 => Some((&sig::ECDSA_P256_SHA256_FIXED, "P-256", 32)),
        Algorithm::ES384 => Some((&sig::ECDSA_P384_SHA384_FIXED, "P-384", 48)),
        _ => None,
    }
}

/// One published signing key, parsed once.
pub(crate) struct Key {
    kid: String,
    /// The key's own `issuer` (Entra publishes one per key for multi-tenant metadata).
    pub(crate) issuer: Option<IssuerTemplate>,
    /// The key's `alg`, when it names one.
    alg: Option<Algorithm>,
    /// The key parsed by aws-lc-rs for each allowed algorithm it fits, indexed by
    /// [`Algorithm::index`]: no key is rebuilt per validation.
    parsed: [Option<ParsedPublicKey>; Algorithm::ALL.len()],
    /// The key's public material (`n || e`, or `x || y`), to tell a republished
    /// key from a replaced one.
    material: Vec<u8>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// Verifies `signature_b64` over `message` with algorithm `alg`.
    pub(crate) fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature_b64: &str,
    ) -> Result<(), Error> {
        let mismatch = || Error::KeyMismatch { kid: shorten(&self.kid), alg: alg.as_str() };
        if self.alg.is_some_and(|a| a != alg) {
            return Err(mismatch());
        }
        let key = self.parsed[alg.index()].as_ref().ok_or_else(mismatch)?;
        with_b64url_strict(signature_b64, |signature| key.verify_sig(message, signature))
            .ok_or(Error::Malformed { reason: "signature is not base64url" })?
            .map_err(|_| Error::InvalidSignature)
    }

    /// Builds a key from one JWKS entry; `None` when it is not a usable signing key.
    fn from_jwk(raw: RawJwk, allowed: &[Algorithm]) -> Option<Self> {
        let kid = raw.kid?;
        if raw.use_.as_deref().is_some_and(|u| u != "sig") {
            return None;
        }
        let alg = match raw.alg.as_deref() {
            None => None,
            Some(name) => Some(Algorithm::from_name(name)?),
        };
        let issuer = raw.issuer.map(IssuerTemplate::new);
        let mut parsed: [Option<ParsedPublicKey>; Algorithm::ALL.len()] = Default::default();
        let usable = allowed.iter().copied().filter(|a| alg.is_none_or(|k| k == *a));
        let material = match raw.kty.as_str() {
            "RSA" => {
                let n = strip_zeros(b64url(raw.n.as_deref()?)?);
                let e = strip_zeros(b64url(raw.e.as_deref()?)?);
                let components = RsaPublicKeyComponents { n: &n[..], e: &e[..] };
                for a in usable {
                    if let Some(params) = rsa_params(a) {
                        parsed[a.index()] = Some(components.to_parsed_public_key(params).ok()?);
                    }
                }
                [n, e].concat()
            }
            "EC" => {
                let x = b64url(raw.x.as_deref()?)?;
                let y = b64url(raw.y.as_deref()?)?;
                for a in usable {
                    let Some((params, crv, len)) = ec_params(a) else { continue };
                    if raw.crv.as_deref().is_some_and(|c| c != crv)
                        || x.len() != len
                        || y.len() != len
                    {
                        continue;
                    }
                    // The uncompressed point: 0x04 || x || y (SEC 1, section 2.3.3).
                    let point = [&[4u8][..], &x, &y].concat();
                    parsed[a.index()] = Some(ParsedPublicKey::new(params, point).ok()?);
                }
                [x, y].concat()
            }
            _ => return None,
        };
        Some(Self { kid, issuer, alg, parsed, material })
    }
}

fn strip_zeros(mut v: Vec<u8>) -> Vec<u8> {
    let zeros = v.iter().take_while(|b| **b == 0).count();
    v.drain(..zeros);
    v
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<serde_json::Value>,
}

/// Parsed signing keys by `kid`.
pub(crate) type KeyMap = Arc<HashMap<String, Arc<Key>>>;

/// Parses a JWKS document; entries that are not usable signing keys are skipped.
pub(crate) fn parse_jwks(
    body: &[u8],
    allowed: &[Algorithm],
) -> Result<HashMap<String, Arc<Key>>, serde_json::Error> {
    let doc: RawJwks = serde_json::from_slice(body)?;
    let mut keys = HashMap::with_capacity(doc.keys.len());
    for value in doc.keys {
        let Ok(raw) = serde_json::from_value::<RawJwk>(value) else { continue };
        match Key::from_jwk(raw, allowed) {
            Some(key) => {
                keys.insert(key.kid.clone(), Arc::new(key));
            }
            None => tracing::debug!("skipping a JWKS entry that is not a usable signing key"),
        }
    }
    Ok(keys)
}

#[derive(Default)]
struct State {
    keys: KeyMap,
    last_success: Option<SystemTime>,
    last_failure: Option<SystemTime>,
    last_miss_fetch: Option<SystemTime>,
    last_error: Option<Arc<JwksError>>,
}

impl State {
    /// Keys may be used: fetched successfully, and not older than refresh + grace.
    fn usable(&self, now: SystemTime, o: &Timing) -> bool {
        self.last_success.is_some_and(|t| now < t + o.refresh + o.grace)
    }

    /// A scheduled refresh is due.
    fn due(&self, now: SystemTime, o: &Timing) -> bool {
        self.last_success.is_none_or(|t| now >= t + o.refresh)
    }

    /// The last attempt failed and the retry wait has not passed.
    fn backing_off(&self, now: SystemTime, o: &Timing) -> bool {
        self.last_failure.is_some_and(|f| now < f + o.retry)
    }
}

#[derive(Clone, Copy)]
struct Timing {
    refresh: Duration,
    min_refresh: Duration,
    retry: Duration,
    grace: Duration,
}

/// The keys of one keys URL.
pub(crate) struct KeyStore {
    url: String,
    http: HttpClient,
    clock: Arc<dyn Clock>,
    timeout: Duration,
    max_bytes: usize,
    algorithms: Vec<Algorithm>,
    timing: Timing,
    state: RwLock<State>,
    fetch_lock: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
    /// Shared with the validator: moves on whenever a key this store trusted is
    /// withdrawn or replaced, so that validations it answered go with it.
    retired: Arc<AtomicU64>,
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyStore")
            .field("url", &self.url)
            .field("fetches", &self.fetches.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The state of a new store: empty, or (feature `fuzzing`) the keys given in
/// memory, loaded now and never refetched while the clock stands still.
fn initial_state(_o: &Options, _now: SystemTime) -> State {
    #[cfg(feature = "fuzzing")]
    if let Some(keys) = &_o.preloaded_keys {
        return State {
            keys: Arc::clone(keys),
            last_success: Some(_now),
            last_miss_fetch: Some(_now),
            ..State::default()
        };
    }
    State::default()
}

enum Why {
    Load,
    Scheduled,
    Miss,
}

impl KeyStore {
    pub(crate) fn new(
        url: String,
        http: HttpClient,
        clock: Arc<dyn Clock>,
        o: &Options,
        retired: Arc<AtomicU64>,
    ) -> Self {
        let state = initial_state(o, clock.now());
        Self {
            url,
            http,
            clock,
            timeout: o.jwks_timeout,
            max_bytes: o.jwks_max_bytes,
            algorithms: o.algorithms.clone(),
            timing: Timing {
                refresh: o.refresh_interval,
                min_refresh: o.min_refresh_interval,
                retry: o.retry_interval,
                grace: o.stale_grace,
            },
            state: RwLock::new(state),
            fetch_lock: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
            retired,
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// How many fetches this store has started.
    pub(crate) fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The key for `kid`, fetching or refreshing the JWKS when needed.
    pub(crate) async fn get(&self, kid: &str) -> Result<Arc<Key>, Error> {
        let now = self.clock.now();
        let t = self.timing;
        let due_key = {
            let s = self.read();
            match s.keys.get(kid) {
                Some(key) if s.usable(now, &t) => {
                    if !s.due(now, &t) || s.backing_off(now, &t) {
                        return Ok(Arc::clone(key));
                    }
                    Some(Arc::clone(key))
                }
                _ => None,
            }
        };
        if let Some(key) = due_key {
            return Ok(self.scheduled_refresh(kid, key).await);
        }
        self.slow_get(kid).await
    }

    /// Keys are due for refresh but the token's key is known: one caller refreshes,
    /// the others go on with the current key.
    async fn scheduled_refresh(&self, kid: &str, current: Arc<Key>) -> Arc<Key> {
        let Ok(_guard) = self.fetch_lock.try_lock() else { return current };
        let now = self.clock.now();
        {
            let s = self.read();
            if !s.due(now, &self.timing) || s.backing_off(now, &self.timing) {
                return s.keys.get(kid).cloned().unwrap_or(current);
            }
        }
        self.fetch(Why::Scheduled).await;
        let now = self.clock.now();
        let s = self.read();
        if s.usable(now, &self.timing) {
            // A key that disappeared from the new JWKS is no longer trusted, but the
            // current validation already started with it: refuse it next time.
            s.keys.get(kid).cloned().unwrap_or(current)
        } else {
            current
        }
    }

    /// No usable key for `kid` in memory: wait for (or perform) one fetch.
    async fn slow_get(&self, kid: &str) -> Result<Arc<Key>, Error> {
        let _guard = self.fetch_lock.lock().await;
        let t = self.timing;
        let now = self.clock.now();
        let why = {
            let s = self.read();
            let usable = s.usable(now, &t);
            if usable && let Some(key) = s.keys.get(kid) {
                // Another caller fetched while this one waited.
                return Ok(Arc::clone(key));
            }
            if s.backing_off(now, &t) {
                return Err(self.no_key(&s, kid, now));
            }
            if !usable {
                Why::Load
            } else if s.last_miss_fetch.is_none_or(|m| now >= m + t.min_refresh) {
                Why::Miss
            } else {
                return Err(Error::UnknownKeyId { kid: shorten(kid) });
            }
        };
        self.fetch(why).await;
        let now = self.clock.now();
        let s = self.read();
        match s.keys.get(kid) {
            Some(key) if s.usable(now, &t) => Ok(Arc::clone(key)),
            _ => Err(self.no_key(&s, kid, now)),
        }
    }

    /// The error when no key is found: transient when the keys could not be
    /// obtained, "unknown kid" when the fresh JWKS lacks it.
    fn no_key(&self, s: &State, kid: &str, now: SystemTime) -> Error {
        if !s.usable(now, &self.timing) || s.last_failure.is_some() {
            Error::KeysUnavailable { source: s.last_error.clone() }
        } else {
            Error::UnknownKeyId { kid: shorten(kid) }
        }
    }

    /// Fetches the JWKS (the caller holds the fetch lock) and updates the state.
    async fn fetch(&self, why: Why) {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let span = tracing::info_span!("entra_jwks.fetch_keys", url = %self.url, outcome = tracing::field::Empty);
        let result = self.download().instrument(span.clone()).await;
        let now = self.clock.now();
        let mut s = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if matches!(why, Why::Miss) {
            s.last_miss_fetch = Some(now);
        }
        match result {
            Ok(keys) => {
                span.record("outcome", "ok");
                tracing::debug!(parent: &span, keys = keys.len(), "signing keys refreshed");
                let withdrawn = s
                    .keys
                    .iter()
                    .any(|(kid, old)| keys.get(kid).is_none_or(|new| new.material != old.material));
                if withdrawn {
                    self.retired.fetch_add(1, Ordering::AcqRel);
                }
                s.keys = Arc::new(keys);
                s.last_success = Some(now);
                s.last_failure = None;
                s.last_error = None;
            }
            Err(e) => {
                span.record("outcome", "error");
                if s.usable(now, &self.timing) {
                    tracing::warn!(
                        parent: &span,
                        error = %e,
                        "keys endpoint failed; still validating with the last good signing keys"
                    );
                } else {
                    tracing::warn!(parent: &span, error = %e, "keys endpoint failed and no usable signing keys remain");
                }
                s.last_failure = Some(now);
                s.last_error = Some(Arc::new(e));
            }
        }
    }

    async fn download(&self) -> Result<HashMap<String, Arc<Key>>, JwksError> {
        let url = || self.url.clone();
        let request = HttpRequest::get(EndpointKind::Keys, self.url.as_str())
            .timeout(self.timeout)
            .limit(self.max_bytes);
        let response = self.http.send(request).await.map_err(|source| match source.kind() {
            HttpErrorKind::TooLarge { .. } => {
                JwksError::TooLarge { url: url(), max: self.max_bytes }
            }
            HttpErrorKind::Redirected { status } => {
                JwksError::Status { url: url(), status: *status }
            }
            _ => JwksError::Request { url: url(), source },
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(JwksError::Status { url: url(), status: status.as_u16() });
        }
        let keys = parse_jwks(response.body(), &self.algorithms)
            .map_err(|source| JwksError::Parse { url: url(), source })?;
        if keys.is_empty() {
            return Err(JwksError::NoKeys { url: url() });
        }
        Ok(keys)
    }

    /// Fetches now unless a fetch failed within the retry interval.
    pub(crate) async fn refresh(&self) -> Result<(), Error> {
        let _guard = self.fetch_lock.lock().await;
        self.fetch(Why::Load).await;
        let s = self.read();
        match &s.last_error {
            Some(e) if s.last_failure.is_some() => {
                Err(Error::KeysUnavailable { source: Some(Arc::clone(e)) })
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: &str = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";

    fn jwks(extra: &str) -> String {
        format!(
            r#"{{"keys":[{{"kty":"RSA","use":"sig","kid":"k1","n":"{N}","e":"AQAB","issuer":"https://login.microsoftonline.com/{{tenantid}}/v2.0"}}{extra}]}}"#
        )
    }

    /// The SIMD decoder of token parts follows `base64`'s strict
    /// `URL_SAFE_NO_PAD` exactly: the same accepted inputs, the same bytes.
    #[test]
    fn strict_decoding_matches_the_reference_decoder() {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. ";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut accepted = 0;
        for n in 0..50_000u64 {
            let len = usize::try_from(n % 131).unwrap_or(0);
            // Mostly base64url, sometimes a byte from outside it.
            let text: String = (0..len)
                .map(|_| {
                    let r = usize::try_from(next() % 1000).unwrap_or(0);
                    char::from(alphabet[if r < 985 { r % 64 } else { r % alphabet.len() }])
                })
                .collect();
            let reference = URL_SAFE_NO_PAD.decode(&text).ok();
            assert_eq!(b64url_strict(&text), reference, "{text:?}");
            assert_eq!(with_b64url_strict(&text, <[u8]>::to_vec), reference, "{text:?}");
            accepted += usize::from(reference.is_some());
        }
        // Both outcomes were exercised.
        assert!(accepted > 1_000 && accepted < 49_000, "{accepted}");
        for bad in ["QR", "QUJ", "QQ==", "QUI=", "Q", "QU+D", "QU/D", "QU.D"] {
            assert_eq!(b64url_strict(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_rsa_keys_and_skips_unusable_entries() {
        let extra = format!(
            r#",{{"kty":"RSA","use":"enc","kid":"enc","n":"{N}","e":"AQAB"}},{{"kty":"oct","kid":"h","k":"c2VjcmV0"}},{{"kty":"RSA","kid":"nokeys"}},{{"nonsense":1}},{{"kty":"RSA","kid":"weird-alg","alg":"HS256","n":"{N}","e":"AQAB"}}"#
        );
        let keys = parse_jwks(jwks(&extra).as_bytes(), &[Algorithm::RS256]).unwrap();
        assert_eq!(keys.len(), 1);
        let k = &keys["k1"];
        assert!(k.issuer.as_ref().unwrap().is_templated());
        assert!(k.parsed[Algorithm::RS256.index()].is_some());
        assert!(k.parsed[Algorithm::PS256.index()].is_none());
        let dbg = format!("{k:?}");
        assert!(dbg.contains("k1") && !dbg.contains(N));
    }

    #[test]
    fn key_alg_restricts_algorithms() {
        let doc =
            format!(r#"{{"keys":[{{"kty":"RSA","kid":"k","alg":"RS256","n":"{N}","e":"AQAB"}}]}}"#);
        let keys = parse_jwks(doc.as_bytes(), &[Algorithm::RS256, Algorithm::PS256]).unwrap();
        let k = &keys["k"];
        assert!(matches!(k.verify(Algorithm::PS256, b"m", "AAAA"), Err(Error::KeyMismatch { .. })));
        assert!(matches!(k.verify(Algorithm::RS256, b"m", "AAAA"), Err(Error::InvalidSignature)));
        assert!(matches!(k.verify(Algorithm::ES256, b"m", "AAAA"), Err(Error::KeyMismatch { .. })));
    }

    #[test]
    fn ec_keys_verify_with_the_same_backend() {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};

        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref();
        let (x, y) = (URL_SAFE_NO_PAD.encode(&point[1..33]), URL_SAFE_NO_PAD.encode(&point[33..]));
        let doc = |crv: &str| {
            format!(r#"{{"keys":[{{"kty":"EC","kid":"e","crv":"{crv}","x":"{x}","y":"{y}"}}]}}"#)
        };
        let keys =
            parse_jwks(doc("P-256").as_bytes(), &[Algorithm::RS256, Algorithm::ES256]).unwrap();
        let k = &keys["e"];
        let sig = pair.sign(&rng, b"header.payload").unwrap();
        let sig = URL_SAFE_NO_PAD.encode(sig.as_ref());
        k.verify(Algorithm::ES256, b"header.payload", &sig).unwrap();
        assert!(matches!(
            k.verify(Algorithm::ES256, b"header.other", &sig),
            Err(Error::InvalidSignature)
        ));
        assert!(matches!(k.verify(Algorithm::RS256, b"m", &sig), Err(Error::KeyMismatch { .. })));
        // A curve that does not fit the algorithm gives no usable key.
        let keys = parse_jwks(doc("P-384").as_bytes(), &[Algorithm::ES256]).unwrap();
        assert!(matches!(
            keys["e"].verify(Algorithm::ES256, b"header.payload", &sig),
            Err(Error::KeyMismatch { .. })
        ));
    }

    #[test]
    fn garbage_documents_are_errors() {
        assert!(parse_jwks(b"<html>", &[Algorithm::RS256]).is_err());
        assert!(parse_jwks(b"{\"keys\":5}", &[Algorithm::RS256]).is_err());
        assert!(parse_jwks(b"{\"keys\":[]}", &[Algorithm::RS256]).unwrap().is_empty());
    }

    #[test]
    fn base64_with_or_without_padding() {
        assert_eq!(b64url("AQAB").unwrap(), vec![1, 0, 1]);
        assert_eq!(b64url("AQ==").unwrap(), vec![1]);
        assert!(b64url("***").is_none());
        assert_eq!(strip_zeros(vec![0, 0, 5]), vec![5]);
    }
}
