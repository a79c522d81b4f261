//! Microsoft Entra ID: entra-teams (work in progress).
