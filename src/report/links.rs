//! Links from a report to AWS documentation: each action's entry in the
//! Service Authorization Reference.
//!
//! The page is named after the service prefix (`list_s3.html`) and each
//! action has the anchor `list_<prefix>-action-<Action>`, the scheme the
//! reference uses since 2025 (its pages for `s3`, `signin`, `ecs-mcp` show
//! it). Built from the name alone: no network, no catalog lookup.

const BASE: &str = "https://docs.aws.amazon.com/service-authorization/latest/reference/";

/// The reference URL of `prefix:Action`; a pattern (`s3:Get*`, `s3:*`)
/// links to its service's page, and a name without a prefix to none.
pub fn action_url(name: &str) -> Option<String> {
    let (prefix, action) = name.split_once(':')?;
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if !valid(prefix) {
        return None;
    }
    let page = format!("{BASE}list_{prefix}.html");
    if valid(action) {
        Some(format!("{page}#list_{prefix}-action-{action}"))
    } else {
        Some(page)
    }
}

#[cfg(test)]
mod tests {
    use super::action_url;

    #[test]
    fn actions_link_to_their_reference_entry() {
        assert_eq!(
            action_url("s3:GetObject").as_deref(),
            Some("https://docs.aws.amazon.com/service-authorization/latest/reference/list_s3.html#list_s3-action-GetObject")
        );
        assert_eq!(
            action_url("ec2-instance-connect:SendSSHPublicKey").as_deref(),
            Some("https://docs.aws.amazon.com/service-authorization/latest/reference/list_ec2-instance-connect.html#list_ec2-instance-connect-action-SendSSHPublicKey")
        );
        assert_eq!(
            action_url("s3:*").as_deref(),
            Some("https://docs.aws.amazon.com/service-authorization/latest/reference/list_s3.html")
        );
        assert_eq!(action_url("GetObject"), None);
        assert_eq!(action_url("s3<x:Get"), None);
    }
}
