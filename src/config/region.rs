//! The eighteen Genesys Cloud regions, found by name or domain.

/// One Genesys Cloud region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Region {
    pub(crate) name: &'static str,
    pub(crate) api_base: &'static str,
}

impl Region {
    /// `https://login.<domain>`.
    pub(crate) fn login_base(&self) -> String {
        self.api_base.replacen("https://api.", "https://login.", 1)
    }

    /// `mypurecloud.ie`.
    pub(crate) fn domain(&self) -> &'static str {
        self.api_base.trim_start_matches("https://api.")
    }
}

const fn region(name: &'static str, api_base: &'static str) -> Region {
    Region { name, api_base }
}

/// All eighteen regions (docs/genesys-api.md#regions-and-hosts).
pub(crate) const REGIONS: &[Region] = &[
    region("us-east-1", "https://api.mypurecloud.com"),
    region("us-east-2", "https://api.use2.us-gov-pure.cloud"),
    region("us-west-2", "https://api.usw2.pure.cloud"),
    region("ca-central-1", "https://api.cac1.pure.cloud"),
    region("sa-east-1", "https://api.sae1.pure.cloud"),
    region("mx-central-1", "https://api.mxc1.pure.cloud"),
    region("eu-west-1", "https://api.mypurecloud.ie"),
    region("eu-west-2", "https://api.euw2.pure.cloud"),
    region("eu-central-1", "https://api.mypurecloud.de"),
    region("eu-central-2", "https://api.euc2.pure.cloud"),
    region("eusc-de-east-1", "https://api.edee1.eusc-pure.cloud"),
    region("me-central-1", "https://api.mec1.pure.cloud"),
    region("ap-south-1", "https://api.aps1.pure.cloud"),
    region("ap-southeast-1", "https://api.apse1.pure.cloud"),
    region("ap-southeast-2", "https://api.mypurecloud.com.au"),
    region("ap-northeast-1", "https://api.mypurecloud.jp"),
    region("ap-northeast-2", "https://api.apne2.pure.cloud"),
    region("ap-northeast-3", "https://api.apne3.pure.cloud"),
];

/// Finds a region by name (`eu-west-1`) or domain (`mypurecloud.ie`, also written with
/// `https://`, `api.` or `login.`), ignoring case.
pub(crate) fn find_region(name_or_domain: &str) -> Option<&'static Region> {
    let mut s = name_or_domain.trim().to_ascii_lowercase();
    for prefix in ["https://", "http://"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.to_string();
        }
    }
    let s = s.trim_end_matches('/');
    let s = s
        .strip_prefix("api.")
        .or_else(|| s.strip_prefix("login."))
        .unwrap_or(s);
    REGIONS.iter().find(|r| r.name == s || r.domain() == s)
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::GlobalArgs;
    use crate::config::{env_of as env, resolve};

    #[test]
    fn every_region_resolves_by_name_and_by_domain_to_the_table_hosts() {
        assert_eq!(REGIONS.len(), 18);
        for r in REGIONS {
            assert_eq!(find_region(r.name), Some(r));
            assert_eq!(find_region(r.domain()), Some(r));
            assert_eq!(find_region(&r.api_base.to_uppercase()), Some(r));
            assert_eq!(find_region(&format!("login.{}", r.domain())), Some(r));
            assert!(r.login_base().starts_with("https://login."));
            let cfg = resolve(
                &GlobalArgs {
                    region: Some(r.name.into()),
                    ..GlobalArgs::default()
                },
                &env(&[("GENESYS_CLIENT_ID", "id"), ("GENESYS_CLIENT_SECRET", "s")]),
            )
            .expect("resolves");
            assert_eq!(cfg.api_base.as_str().trim_end_matches('/'), r.api_base);
            assert_eq!(
                cfg.login_base.as_str().trim_end_matches('/'),
                r.login_base()
            );
        }
        assert_eq!(
            find_region("mypurecloud.ie").map(|r| r.name),
            Some("eu-west-1")
        );
        assert_eq!(
            find_region("usw2.pure.cloud").map(|r| r.name),
            Some("us-west-2")
        );
        assert_eq!(find_region("mars-1"), None);
    }
}
