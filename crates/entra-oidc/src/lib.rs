//! Microsoft Entra ID: entra-oidc (work in progress).
