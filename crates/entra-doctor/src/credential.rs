//! Looking at the app's credential without using it: the secret's shape, the
//! certificate's dates and key, the federated token's expiry.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entra_core::CertificateCredential;

use crate::check::{Status, Step};
use crate::config::{Config, Setting};
use crate::jwt::Unverified;
use entra_core::words;

/// Certificates closer than this to their end date get a warning.
const CERT_WARN_SECS: i64 = 30 * 86_400;

pub(crate) fn check(config: &Config, now: i64) -> Step {
    let step = |status, detail: String, remedy: Option<String>| {
        Step::new("credential", status, detail, remedy)
    };
    let cert = config.raw(Setting::ClientCertificatePath);
    let fed = config.raw(Setting::FederatedTokenFile);
    if let Some(secret) = config.client_secret() {
        let mut step = secret_step(secret.value.expose_secret(), &secret.from);
        if cert.is_some() || fed.is_some() {
            step.detail
                .push_str("; a certificate or federated token is also set, and the secret wins");
        }
        return step;
    }
    if let Some(c) = cert {
        return certificate_step(Path::new(&c.value), &c.from, now);
    }
    if let Some(f) = fed {
        return federated_step(Path::new(&f.value), &f.from, now);
    }
    step(
        Status::Warning,
        "no credential set".into(),
        Some(format!(
            "validating tokens needs none, but the sign-in code exchange and On-Behalf-Of do: set {}, {} or {}",
            Setting::ClientSecret.display(),
            Setting::ClientCertificatePath.display(),
            Setting::FederatedTokenFile.env_name()
        )),
    )
}

fn secret_step(secret: &str, from: &str) -> Step {
    let chars = secret.chars().count();
    let detail = format!("client secret from {from} ({chars} characters; the value is not shown)");
    if secret.starts_with(['"', '\'']) || secret.ends_with(['"', '\'']) {
        return Step::new(
            "credential",
            Status::Problem,
            detail,
            Some(
                "the secret starts or ends with a quote: remove the quotes around the value".into(),
            ),
        );
    }
    if secret.chars().any(char::is_whitespace) {
        return Step::new(
            "credential",
            Status::Problem,
            detail,
            Some(
                "the secret contains whitespace: copy the value again, without line breaks".into(),
            ),
        );
    }
    if entra_core::ClientId::parse(secret).is_ok() {
        return Step::new(
            "credential",
            Status::Problem,
            detail,
            Some("the secret looks like a GUID: that is the secret's ID, not its Value; Entra answers AADSTS7000215 (copy the Value column, shown only once after creation)".into()),
        );
    }
    Step::new("credential", Status::Ok, detail, None)
}

fn certificate_step(path: &Path, from: &str, now: i64) -> Step {
    let problem = |detail: String, remedy: &str| {
        Step::new("credential", Status::Problem, detail, Some(remedy.to_owned()))
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return problem(
                format!("certificate file {} (from {from}) cannot be read: {e}", path.display()),
                "point the setting at a readable PEM file holding the certificate and its private key",
            );
        }
    };
    let der = match pem::parse_many(text.as_bytes()) {
        Ok(blocks) => {
            blocks.into_iter().find(|b| b.tag() == "CERTIFICATE").map(pem::Pem::into_contents)
        }
        Err(_) => None,
    };
    let Some(der) = der else {
        return problem(
            format!("{} holds no PEM CERTIFICATE block", path.display()),
            "use a PEM file with the certificate and its private key (for a .pfx: openssl pkcs12 -in app.pfx -nodes -out app.pem)",
        );
    };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(&der) else {
        return problem(
            format!("the CERTIFICATE block of {} is not an X.509 certificate", path.display()),
            "export the certificate again",
        );
    };
    let not_after = cert.validity().not_after.timestamp();
    let not_before = cert.validity().not_before.timestamp();
    let subject = cert.subject().to_string();
    let key = CertificateCredential::from_combined_pem(&text);
    let thumbprint = key
        .as_ref()
        .ok()
        .and_then(|c| URL_SAFE_NO_PAD.decode(c.thumbprint_sha1()).ok())
        .map(|b| b.iter().map(|x| format!("{x:02X}")).collect::<String>());
    let mut detail = format!(
        "certificate {} (from {from}): subject {subject}, valid {} to {}",
        path.display(),
        words::utc(not_before),
        words::utc(not_after)
    );
    if let Some(t) = &thumbprint {
        detail.push_str(&format!(", SHA-1 thumbprint {t} (compare with Certificates & secrets)"));
    }
    if let Err(e) = key {
        return problem(
            detail,
            &format!("{e}: the file must hold the certificate's unencrypted RSA private key"),
        );
    }
    if not_after <= now {
        return problem(
            format!("{detail}; {}", words::expiry(not_after, now)),
            "the certificate has expired (Entra answers AADSTS700027): create a new one, upload it to the app registration and configure it here",
        );
    }
    if not_before > now {
        return problem(
            format!(
                "{detail}; not valid for another {}",
                words::duration(not_before.saturating_sub(now))
            ),
            "the certificate is not valid yet: check this machine's clock",
        );
    }
    if not_after.saturating_sub(now) < CERT_WARN_SECS {
        return Step::new(
            "credential",
            Status::Warning,
            format!("{detail}; {}", words::expiry(not_after, now)),
            Some("renew the certificate and upload the new one before this date".into()),
        );
    }
    Step::new(
        "credential",
        Status::Ok,
        format!("{detail}; {}", words::expiry(not_after, now)),
        None,
    )
}

fn federated_step(path: &Path, from: &str, now: i64) -> Step {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return Step::new(
                "credential",
                Status::Problem,
                format!(
                    "federated token file {} (from {from}) cannot be read: {e}",
                    path.display()
                ),
                Some(
                    "mount the projected service account token (workload identity) at this path"
                        .into(),
                ),
            );
        }
    };
    let detail = format!("federated token file {} (from {from})", path.display());
    let Ok(t) = Unverified::decode(&text) else {
        return Step::new(
            "credential",
            Status::Problem,
            detail,
            Some("the file does not hold a JWT".into()),
        );
    };
    let c = t.claims();
    let aud: Vec<&str> = c.aud.iter().collect();
    let detail = format!(
        "{detail}: issuer {}, subject {}, audience {}",
        c.iss.as_deref().unwrap_or("(none)"),
        c.sub.as_deref().unwrap_or("(none)"),
        aud.join(", ")
    );
    match c.exp {
        Some(exp) if exp <= now => Step::new(
            "credential",
            Status::Problem,
            format!("{detail}; {}", words::expiry(exp, now)),
            Some("the token is expired: the platform should refresh the file; check the workload identity set-up".into()),
        ),
        _ if !aud.contains(&"api://AzureADTokenExchange") => Step::new(
            "credential",
            Status::Warning,
            detail,
            Some("Entra expects the audience `api://AzureADTokenExchange` in federated tokens (the federated credential's audience)".into()),
        ),
        _ => Step::new("credential", Status::Ok, detail, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_shapes() {
        assert_eq!(secret_step("abc~DEF.123", "X").status, Status::Ok);
        let guid = secret_step("6e74172b-be56-4843-9ff4-e66a39bb12e3", "X");
        assert_eq!(guid.status, Status::Problem);
        assert!(guid.remedy.unwrap().contains("7000215"));
        assert_eq!(secret_step("\"quoted\"", "X").status, Status::Problem);
        assert_eq!(secret_step("a b", "X").status, Status::Problem);
        assert!(!secret_step("hunter2", "X").detail.contains("hunter2"));
    }

    #[test]
    fn unreadable_files_are_problems() {
        let missing = Path::new("/nonexistent/entra-doctor/cert.pem");
        assert_eq!(certificate_step(missing, "X", 0).status, Status::Problem);
        assert_eq!(federated_step(missing, "X", 0).status, Status::Problem);
    }
}
