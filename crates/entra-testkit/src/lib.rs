//! Microsoft Entra ID: entra-testkit (work in progress).
