//! Response futures of the middleware in this crate.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::body::{Body, Bytes, HttpBody};
use axum::response::Response;
use pin_project_lite::pin_project;

use crate::bearer::{Shared, complete_challenge};

type BoxFuture<E> = Pin<Box<dyn Future<Output = Result<Response, E>> + Send>>;

/// The response future of [`Session`](crate::Session): the inner service, then
/// its body as an axum [`Body`].
pub struct ResponseFuture<E> {
    inner: BoxFuture<E>,
}

impl<E> ResponseFuture<E> {
    pub(crate) fn new(inner: BoxFuture<E>) -> Self {
        Self { inner }
    }
}

impl<E> Future for ResponseFuture<E> {
    type Output = Result<Response, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<E> fmt::Debug for ResponseFuture<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

pin_project! {
    /// The response future of [`Bearer`](crate::Bearer) over a service whose
    /// future is `F`: the refusal, or the inner service's future when the
    /// validator answered at once (a cached token), or the validation still
    /// under way (signing keys being fetched) and then the inner service.
    pub struct BearerFuture<F, E> {
        #[pin]
        state: State<F, E>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, E> {
        Refused { response: Option<Response> },
        Inner { #[pin] future: F, shared: Arc<Shared> },
        Validating { future: BoxFuture<E> },
    }
}

impl<F, E> BearerFuture<F, E> {
    pub(crate) fn refused(response: Response) -> Self {
        Self { state: State::Refused { response: Some(response) } }
    }

    pub(crate) fn inner(future: F, shared: Arc<Shared>) -> Self {
        Self { state: State::Inner { future, shared } }
    }

    pub(crate) fn validating(future: BoxFuture<E>) -> Self {
        Self { state: State::Validating { future } }
    }
}

impl<F, E, ResBody> Future for BearerFuture<F, E>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
    ResBody: HttpBody<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<axum::BoxError>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            // Polled again after completion: an empty response rather than a panic.
            StateProj::Refused { response } => Poll::Ready(Ok(response.take().unwrap_or_default())),
            StateProj::Inner { future, shared } => {
                let response = ready!(future.poll(cx))?.map(Body::new);
                Poll::Ready(Ok(complete_challenge(&shared.challenger, response)))
            }
            StateProj::Validating { future } => future.as_mut().poll(cx),
        }
    }
}

impl<F, E> fmt::Debug for BearerFuture<F, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerFuture").finish_non_exhaustive()
    }
}
