use super::*;

const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OTHER: &str = "11111111-2222-3333-4444-555555555555";

fn auth(cloud: Cloud, tenant: &str) -> Authority {
    Authority::new(cloud, Tenant::parse(tenant).unwrap())
}

#[test]
fn urls_for_each_cloud() {
    let cases = [
        (Cloud::Public, "https://login.microsoftonline.com"),
        (Cloud::UsGovernment, "https://login.microsoftonline.us"),
        (Cloud::China, "https://login.partner.microsoftonline.cn"),
        (
            Cloud::custom("http://127.0.0.1:4000", "http://127.0.0.1:4000").unwrap(),
            "http://127.0.0.1:4000",
        ),
    ];
    for (cloud, base) in cases {
        for tenant in [TID, "contoso.com", "common", "organizations", "consumers"] {
            let a = auth(cloud.clone(), tenant);
            assert_eq!(
                a.v2_discovery_url(),
                format!("{base}/{tenant}/v2.0/.well-known/openid-configuration")
            );
            assert_eq!(
                a.v1_discovery_url(),
                format!("{base}/{tenant}/.well-known/openid-configuration")
            );
            assert_eq!(a.v2_keys_url(), format!("{base}/{tenant}/discovery/v2.0/keys"));
            assert_eq!(a.v1_keys_url(), format!("{base}/{tenant}/discovery/keys"));
            assert_eq!(a.authorize_url(), format!("{base}/{tenant}/oauth2/v2.0/authorize"));
            assert_eq!(a.token_url(), format!("{base}/{tenant}/oauth2/v2.0/token"));
            assert_eq!(a.logout_url(), format!("{base}/{tenant}/oauth2/v2.0/logout"));
        }
    }
}

#[test]
fn keys_url_for_custom_signing_keys() {
    let a = auth(Cloud::Public, TID);
    let app = ClientId::parse("6e74172b-be56-4843-9ff4-e66a39bb12e3").unwrap();
    assert_eq!(
        a.keys_url(TokenVersion::V2, Some(&app)),
        format!("https://login.microsoftonline.com/{TID}/discovery/v2.0/keys?appid={app}")
    );
}

#[test]
fn issuers_for_each_cloud() {
    let tid = TenantId::parse(TID).unwrap();
    assert_eq!(Cloud::Public.v1_issuer(&tid), format!("https://sts.windows.net/{TID}/"));
    assert_eq!(
        Cloud::Public.v2_issuer(&tid),
        format!("https://login.microsoftonline.com/{TID}/v2.0")
    );
    assert_eq!(
        Cloud::UsGovernment.v2_issuer(&tid),
        format!("https://login.microsoftonline.us/{TID}/v2.0")
    );
    assert_eq!(Cloud::China.v1_issuer(&tid), format!("https://sts.chinacloudapi.cn/{TID}/"));
    assert_eq!(
        Cloud::China.v2_issuer(&tid),
        format!("https://login.partner.microsoftonline.cn/{TID}/v2.0")
    );
}

#[test]
fn template_braces_are_never_encoded() {
    for cloud in [Cloud::Public, Cloud::UsGovernment, Cloud::China] {
        let a = auth(cloud, "common");
        let v2 = a.v2_issuer().unwrap();
        assert!(v2.as_str().contains("/{tenantid}/v2.0"), "{v2}");
        assert!(!v2.as_str().contains('%'));
        assert!(a.v1_issuer().unwrap().as_str().ends_with("/{tenantid}/"));
    }
    // An encoded template from elsewhere is normalized.
    let t = IssuerTemplate::new("https://login.microsoftonline.com/%7Btenantid%7D/v2.0");
    assert!(t.is_templated());
    let t = IssuerTemplate::new("https://login.microsoftonline.com/{TenantId}/v2.0");
    assert_eq!(t.as_str(), "https://login.microsoftonline.com/{tenantid}/v2.0");
}

#[test]
fn single_tenant_issuer_accepts_own_tenant() {
    let a = auth(Cloud::Public, TID);
    let iss = format!("https://login.microsoftonline.com/{TID}/v2.0");
    assert_eq!(a.check_issuer(TokenVersion::V2, &iss, Some(TID)).unwrap().as_str(), TID);
    let v1 = format!("https://sts.windows.net/{TID}/");
    assert!(a.check_issuer(TokenVersion::V1, &v1, Some(TID)).is_ok());
}

#[test]
fn single_tenant_issuer_refuses_other_tenant_and_version() {
    let a = auth(Cloud::Public, TID);
    let other = format!("https://login.microsoftonline.com/{OTHER}/v2.0");
    assert!(matches!(
        a.check_issuer(TokenVersion::V2, &other, Some(OTHER)),
        Err(Error::IssuerMismatch { .. })
    ));
    // The issuer is right but the token's tid names another tenant.
    let iss = format!("https://login.microsoftonline.com/{TID}/v2.0");
    assert!(matches!(
        a.check_issuer(TokenVersion::V2, &iss, Some(OTHER)),
        Err(Error::IssuerMismatch { .. })
    ));
    // A v1 issuer where v2 is expected.
    let v1 = format!("https://sts.windows.net/{TID}/");
    assert!(a.check_issuer(TokenVersion::V2, &v1, Some(TID)).is_err());
    // Another cloud's issuer.
    let gov = format!("https://login.microsoftonline.us/{TID}/v2.0");
    assert!(a.check_issuer(TokenVersion::V2, &gov, Some(TID)).is_err());
    // Missing tid.
    assert!(matches!(a.check_issuer(TokenVersion::V2, &iss, None), Err(Error::MissingTenantId)));
}

#[test]
fn multi_tenant_template_matches_tid() {
    let a = auth(Cloud::Public, "common");
    let iss = format!("https://login.microsoftonline.com/{OTHER}/v2.0");
    assert_eq!(a.check_issuer(TokenVersion::V2, &iss, Some(OTHER)).unwrap().as_str(), OTHER);
    let v1 = format!("https://sts.windows.net/{OTHER}/");
    assert!(a.check_issuer(TokenVersion::V1, &v1, Some(OTHER)).is_ok());
}

#[test]
fn multi_tenant_template_refuses_tid_not_matching_issuer() {
    let a = auth(Cloud::Public, "common");
    let iss = format!("https://login.microsoftonline.com/{TID}/v2.0");
    assert!(matches!(
        a.check_issuer(TokenVersion::V2, &iss, Some(OTHER)),
        Err(Error::IssuerMismatch { .. })
    ));
    assert!(matches!(
        a.check_issuer(TokenVersion::V2, &iss, Some("not-a-guid")),
        Err(Error::InvalidTenantId { .. })
    ));
    assert!(matches!(a.check_issuer(TokenVersion::V2, &iss, None), Err(Error::MissingTenantId)));
    // A crafted tid cannot smuggle a path into the issuer.
    let evil = "https://login.microsoftonline.com/x/v2.0";
    assert!(a.check_issuer(TokenVersion::V2, evil, Some("x")).is_err());
}

#[test]
fn organizations_refuses_consumer_accounts() {
    let a = auth(Cloud::Public, "organizations");
    let iss = format!("https://login.microsoftonline.com/{}/v2.0", TenantId::CONSUMERS);
    assert!(matches!(
        a.check_issuer(TokenVersion::V2, &iss, Some(TenantId::CONSUMERS)),
        Err(Error::TenantNotAllowed { .. })
    ));
    let c = auth(Cloud::Public, "consumers");
    assert!(c.check_issuer(TokenVersion::V2, &iss, Some(TenantId::CONSUMERS)).is_ok());
}

#[test]
fn exact_issuer_template_requires_tid_in_issuer() {
    // A non-templated issuer that does not name the tenant at all is refused.
    let t = IssuerTemplate::new("https://issuer.example/v2.0");
    assert!(t.check("https://issuer.example/v2.0", Some(TID)).is_err());
}

#[test]
fn domain_tenant_needs_discovery() {
    let a = auth(Cloud::Public, "contoso.com");
    assert!(a.v2_issuer().is_none());
    assert!(matches!(
        a.check_issuer(TokenVersion::V2, "x", Some(TID)),
        Err(Error::InvalidAuthority { .. })
    ));
}

#[test]
fn for_tenant_routes_to_user_tenant() {
    let a = auth(Cloud::Public, "common");
    let tid = TenantId::parse(OTHER).unwrap();
    assert_eq!(
        a.for_tenant(&tid).token_url(),
        format!("https://login.microsoftonline.com/{OTHER}/oauth2/v2.0/token")
    );
}

#[test]
fn authority_parse() {
    let a =
        Authority::parse("https://login.microsoftonline.us/contoso.onmicrosoft.com/v2.0/").unwrap();
    assert_eq!(a.cloud(), &Cloud::UsGovernment);
    assert_eq!(a.tenant(), &Tenant::Domain("contoso.onmicrosoft.com".into()));
    for bad in [
        "",
        "login.microsoftonline.com/common",
        "https://login.microsoftonline.com",
        "https://login.microsoftonline.com/a/b",
        "https://login.microsoftonline.com/not a tenant",
    ] {
        assert!(Authority::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn authority_parse_keeps_the_host_requests_go_to() {
    // `\` is a path separator for http(s) URLs: the host is evil.example, and the
    // authority must neither display login.microsoftonline.com nor accept the path.
    for bad in [
        r"https://evil.example\@login.microsoftonline.com/common",
        "https://evil.example%5C@login.microsoftonline.com/common",
        "https://user@login.microsoftonline.com/common",
        "https://user:pw@login.microsoftonline.com/common",
        "https://login.microsoftonline.com/common?x=1",
        "https://login.microsoftonline.com/common#frag",
        "https://login.microsoftonline.com/V2.0",
        "https://login.microsoftonline.com/v2.0/",
        "https://login.microsoftonline.com/common/oauth2",
        "https://login.microsoftonline.com//common",
    ] {
        assert!(Authority::parse(bad).is_err(), "{bad}");
    }
    // The cloud's own base URL is kept as parsed, not as typed.
    let c = Cloud::parse(r"https://evil.example\@login.microsoftonline.com").unwrap();
    assert!(c.login_base().starts_with("https://evil.example/"), "{}", c.login_base());
}

#[test]
fn authority_parse_strips_version_in_any_case() {
    for input in [
        format!("https://login.microsoftonline.com/{TID}/v2.0"),
        format!("https://login.microsoftonline.com/{TID}/V2.0/"),
        format!("https://LOGIN.microsoftonline.com/{TID}"),
        format!("https://login.microsoftonline.com:443/{TID}/"),
    ] {
        let a = Authority::parse(&input).unwrap();
        assert_eq!(a.cloud(), &Cloud::Public, "{input}");
        assert_eq!(a.tenant().as_segment(), TID, "{input}");
    }
}

#[test]
fn authority_parse_display_round_trips() {
    for input in [
        "https://login.microsoftonline.com/common",
        "https://login.microsoftonline.us/Contoso.onmicrosoft.com/v2.0",
        "https://login.partner.microsoftonline.cn/organizations/",
        "http://127.0.0.1:8080/72f988bf-86f1-41af-91ab-2d7cd011db47",
        "http://[::1]:9/consumers",
        "https://Contoso.ciamlogin.com/contoso.onmicrosoft.com",
        "https://login.example:8443/common",
        "https://xn--bcher-kva.example/common",
    ] {
        let a = Authority::parse(input).unwrap();
        let shown = a.to_string();
        assert_eq!(Authority::parse(&shown).unwrap(), a, "{input} -> {shown}");
        assert_eq!(Authority::parse(&shown).unwrap().to_string(), shown);
    }
}

#[test]
fn ciam_authority_keeps_public_graph() {
    let a = Authority::parse("https://contoso.ciamlogin.com/contoso.onmicrosoft.com").unwrap();
    assert!(a.cloud().is_ciam());
    assert_eq!(a.cloud().login_base(), "https://contoso.ciamlogin.com");
    assert_eq!(a.cloud().graph_base(), "https://graph.microsoft.com");
    assert!(!Cloud::Public.is_ciam());
    // Only a real subdomain of ciamlogin.com is CIAM.
    let not = Cloud::parse("https://evilciamlogin.com").unwrap();
    assert!(!not.is_ciam());
    assert_eq!(not.graph_base(), "https://evilciamlogin.com");
}

#[test]
fn b2c_is_refused_by_name() {
    for input in [
        "https://contoso.b2clogin.com/contoso.onmicrosoft.com",
        "https://contoso.b2clogin.com/tfp/contoso.onmicrosoft.com",
    ] {
        let err = Authority::parse(input).unwrap_err();
        // The second form has a policy path and fails on shape first; both are errors.
        assert!(err.to_string().contains("B2C") || matches!(err, Error::InvalidAuthority { .. }));
    }
    let err = Authority::parse("https://contoso.b2clogin.com/contoso.onmicrosoft.com").unwrap_err();
    assert!(matches!(err, Error::B2cNotSupported { .. }), "{err:?}");
    assert!(matches!(
        Cloud::parse("https://contoso.b2clogin.com"),
        Err(Error::B2cNotSupported { .. })
    ));
}

/// The issuer comparison that builds nothing agrees with comparing against the
/// resolved issuer, for templates with zero, one or two placeholders.
#[test]
fn issuer_comparison_agrees_with_the_resolved_issuer() {
    let tid = TenantId::parse("72f988bf-86f1-41af-91ab-2d7cd011db47").unwrap();
    let other = "00000000-0000-0000-0000-000000000001";
    let templates = [
        "https://login.microsoftonline.com/{tenantid}/v2.0",
        "https://sts.windows.net/{tenantid}/",
        "https://{tenantid}.ciamlogin.com/{tenantid}/v2.0",
        "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
        "{tenantid}",
    ];
    for template in templates {
        let t = IssuerTemplate::new(template);
        let resolved = t.resolve(&tid);
        let candidates = [
            resolved.clone(),
            format!("{resolved}/"),
            resolved[..resolved.len() - 1].to_owned(),
            resolved.replace(tid.as_str(), other),
            template.to_owned(),
            String::new(),
            tid.as_str().to_owned(),
        ];
        for iss in candidates {
            assert_eq!(t.is_resolved_as(&iss, &tid), iss == resolved, "{template} vs {iss}");
        }
    }
}
