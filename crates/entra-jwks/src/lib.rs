//! Microsoft Entra ID: entra-jwks (work in progress).
