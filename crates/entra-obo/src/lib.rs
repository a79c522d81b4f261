//! Microsoft Entra ID: entra-obo (work in progress).
