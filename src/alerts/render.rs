//! The alerts as files: per principal a Terraform file and a JSON document
//! (`leastpriv.alerts/v1`) with the raw event patterns, plus one
//! `variables.tf` and a `README.md`, written as one set.

use super::{Alarm, EventRule, MetricFilter, PrincipalAlerts, FILTERS_PER_LOG_GROUP};
use serde::Serialize;
use std::path::{Path, PathBuf};

pub const SCHEMA: &str = "leastpriv.alerts/v1";

/// One principal's alerting as JSON; fields are only ever added.
#[derive(Serialize)]
pub struct AlertsV1<'a> {
    pub schema: &'static str,
    pub principal: &'a str,
    pub name: &'a str,
    pub identity_type: &'a str,
    pub kind: &'a str,
    pub event_rules: Vec<RuleV1<'a>>,
    pub metric_filters: Vec<FilterV1<'a>>,
    pub alarms: Vec<AlarmV1<'a>>,
    pub notes: &'a [String],
}

#[derive(Serialize)]
pub struct RuleV1<'a> {
    pub name: &'a str,
    pub purpose: &'static str,
    pub description: &'a str,
    /// EventBridge rule state: denied and outside-policy calls include
    /// read-only management events, which only this state delivers.
    pub state: &'static str,
    /// The pattern matches events of global services (IAM, STS's global
    /// endpoint, sign-in), which arrive in us-east-1 only.
    pub global_service_events: bool,
    pub pattern_size: usize,
    pub event_pattern: &'a serde_json::Value,
}

#[derive(Serialize)]
pub struct FilterV1<'a> {
    pub name: &'a str,
    pub purpose: &'static str,
    pub metric: &'a str,
    pub pattern: &'a str,
}

#[derive(Serialize)]
pub struct AlarmV1<'a> {
    pub name: &'a str,
    pub purpose: &'static str,
    pub description: &'a str,
    pub metrics: Vec<(&'a str, &'a str)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression: Option<&'a str>,
}

const STATE: &str = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS";

impl<'a> AlertsV1<'a> {
    pub fn of(a: &'a PrincipalAlerts) -> Self {
        AlertsV1 {
            schema: SCHEMA,
            principal: &a.principal,
            name: &a.name,
            identity_type: a.identity_type,
            kind: a.kind.as_str(),
            event_rules: a
                .rules
                .iter()
                .map(|r| RuleV1 {
                    name: &r.name,
                    purpose: r.purpose.as_str(),
                    description: &r.description,
                    state: STATE,
                    global_service_events: r.global_events,
                    pattern_size: super::eventbridge::size(&r.pattern),
                    event_pattern: &r.pattern,
                })
                .collect(),
            metric_filters: a
                .filters
                .iter()
                .map(|f| FilterV1 {
                    name: &f.name,
                    purpose: f.purpose.as_str(),
                    metric: &f.metric,
                    pattern: &f.pattern,
                })
                .collect(),
            alarms: a
                .alarms
                .iter()
                .map(|x| AlarmV1 {
                    name: &x.name,
                    purpose: x.purpose.as_str(),
                    description: &x.description,
                    metrics: x
                        .metrics
                        .iter()
                        .map(|(i, m)| (i.as_str(), m.as_str()))
                        .collect(),
                    expression: x.expression.as_deref(),
                })
                .collect(),
            notes: &a.notes,
        }
    }
}

/// A Terraform string literal: JSON escaping plus Terraform's template
/// sequences (`${`, `%{`) doubled so they stay literal.
fn hcl(s: &str) -> String {
    serde_json::to_string(s)
        .unwrap_or_default()
        .replace("${", "$${")
        .replace("%{", "%%{")
}

fn ident(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .replace('-', "_")
}

fn rule_tf(r: &EventRule, out: &mut String) {
    let id = ident(&r.name);
    out.push_str(&format!(
        "resource \"aws_cloudwatch_event_rule\" \"{id}\" {{\n  name          = {}\n  description   = {}\n  state         = \"{STATE}\"\n  event_pattern = {}\n}}\n\n",
        hcl(&r.name),
        hcl(&r.description.chars().take(512).collect::<String>()),
        hcl(&r.pattern.to_string()),
    ));
    out.push_str(&format!(
        "resource \"aws_cloudwatch_event_target\" \"{id}\" {{\n  rule = aws_cloudwatch_event_rule.{id}.name\n  arn  = var.alert_target_arn\n}}\n\n"
    ));
}

fn filter_tf(f: &MetricFilter, out: &mut String) {
    let id = ident(&f.name);
    out.push_str(&format!(
        "resource \"aws_cloudwatch_log_metric_filter\" \"{id}\" {{\n  count          = var.cloudtrail_log_group_name == null ? 0 : 1\n  name           = {}\n  log_group_name = var.cloudtrail_log_group_name\n  pattern        = {}\n\n  metric_transformation {{\n    name          = {}\n    namespace     = var.metric_namespace\n    value         = \"1\"\n    default_value = \"0\"\n  }}\n}}\n\n",
        hcl(&f.name),
        hcl(&f.pattern),
        hcl(&f.metric),
    ));
}

fn alarm_tf(a: &Alarm, out: &mut String) {
    let id = ident(&a.name);
    out.push_str(&format!(
        "resource \"aws_cloudwatch_metric_alarm\" \"{id}\" {{\n  count               = var.cloudtrail_log_group_name == null ? 0 : 1\n  alarm_name          = {}\n  alarm_description   = {}\n  comparison_operator = \"GreaterThanThreshold\"\n  evaluation_periods  = 1\n  threshold           = 0\n  treat_missing_data  = \"notBreaching\"\n  alarm_actions       = [var.alarm_topic_arn]\n",
        hcl(&a.name),
        hcl(&a.description.chars().take(1024).collect::<String>()),
    ));
    match &a.expression {
        None => {
            if let Some((_, m)) = a.metrics.first() {
                out.push_str(&format!(
                    "  namespace           = var.metric_namespace\n  metric_name         = {}\n  statistic           = \"Sum\"\n  period              = var.alarm_period\n",
                    hcl(m)
                ));
            }
        }
        Some(expr) => {
            out.push_str(&format!(
                "\n  metric_query {{\n    id          = \"outside\"\n    expression  = {}\n    label       = \"calls outside the recommended policy\"\n    return_data = true\n  }}\n",
                hcl(expr)
            ));
            for (mid, m) in &a.metrics {
                out.push_str(&format!(
                    "\n  metric_query {{\n    id = \"{mid}\"\n    metric {{\n      namespace   = var.metric_namespace\n      metric_name = {}\n      stat        = \"Sum\"\n      period      = var.alarm_period\n    }}\n  }}\n",
                    hcl(m)
                ));
            }
        }
    }
    out.push_str("}\n\n");
}

/// One principal's Terraform.
pub fn terraform(a: &PrincipalAlerts) -> String {
    let mut out = format!(
        "# leastpriv alerts for {} ({}, {})\n# Generated by `leastpriv alerts`; the raw event patterns are in {}.json.\n",
        a.principal,
        a.identity_type,
        a.kind.as_str(),
        file_stem(a)
    );
    for n in &a.notes {
        out.push_str(&format!("# Note: {n}\n"));
    }
    out.push('\n');
    for r in &a.rules {
        rule_tf(r, &mut out);
    }
    for f in &a.filters {
        filter_tf(f, &mut out);
    }
    for x in &a.alarms {
        alarm_tf(x, &mut out);
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

const VARIABLES: &str = r#"# Inputs of the alerts leastpriv wrote into this directory (`leastpriv alerts`).

variable "alert_target_arn" {
  description = "Target of every EventBridge rule, e.g. an SNS topic whose policy lets events.amazonaws.com publish"
  type        = string
}

variable "cloudtrail_log_group_name" {
  description = "CloudWatch Logs group the trail delivers to; null leaves out the metric filters and alarms"
  type        = string
  default     = null
}

variable "alarm_topic_arn" {
  description = "SNS topic the CloudWatch alarms notify"
  type        = string
  default     = null
}

variable "metric_namespace" {
  description = "CloudWatch namespace of the metrics the filters publish"
  type        = string
  default     = "leastpriv"
}

variable "alarm_period" {
  description = "Seconds over which an alarm sums its metric"
  type        = number
  default     = 300
}
"#;

fn file_stem(a: &PrincipalAlerts) -> String {
    let clean: String = a
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}-{clean}", a.identity_type)
}

/// The directory's README: what is there, how to apply it, the limits.
pub fn readme(all: &[PrincipalAlerts]) -> String {
    let rules: usize = all.iter().map(|a| a.rules.len()).sum();
    let filters: usize = all.iter().map(|a| a.filters.len()).sum();
    let mut out = format!(
        "# Alerts written by leastpriv\n\n{} principal(s): {rules} EventBridge rule(s), {filters} CloudWatch Logs metric filter(s), {} alarm(s).\n\n",
        all.len(),
        all.iter().map(|a| a.alarms.len()).sum::<usize>()
    );
    out.push_str("Per principal, `TYPE-NAME.tf` holds the Terraform and `TYPE-NAME.json` (`leastpriv.alerts/v1`) the raw event patterns and filter patterns. The directory is one Terraform module; `variables.tf` lists its inputs.\n\n");
    out.push_str("Each principal gets alerts when:\n\n- **refused**: a call of it is refused for lack of permission (`errorCode` AccessDenied, UnauthorizedOperation, ...);\n- **guardrail**: it calls an action the guardrails of its kind deny (`rules/guardrails.yaml`), refused or not;\n- **outside-policy**: it calls an action outside its recommended policy (`leastpriv recommend`). Metric filters cannot express \"anything but\", so the alarm counts all of its API calls less those the policy covers.\n\n");
    out.push_str("## Where to apply it\n\n- EventBridge rules see the events of their own Region. Apply the module in every Region where the principals act. CloudTrail records the events of global services (IAM, STS's global endpoint, AWS sign-in, CloudFront) in **us-east-1** only: rules marked `global_service_events` in the JSON catch those only there.\n- The rules' state is `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`: refused and outside-policy calls include read-only calls (`Get*`, `List*`, `Describe*`), which EventBridge delivers only in that state (it needs a recent `hashicorp/aws` provider, one with the rule's `state` argument).\n- CloudTrail delivers events to EventBridge on a best-effort basis, and data events only when a trail records them: the audit itself must still read the trail.\n- Metric filters read the trail's CloudWatch Logs group (`cloudtrail_log_group_name`); a multi-Region trail brings every Region's events into it.\n\n## Limits\n\n");
    out.push_str(&format!(
        "- An event pattern holds at most 2,048 characters by default (adjustable to 4,096), a metric filter pattern 1,024: longer ones are split into several rules or filters, each matching a disjoint part of the events (filters of one purpose add to one metric).\n- A log group takes at most {FILTERS_PER_LOG_GROUP} metric filters (not adjustable). These alerts have {filters}{}.\n",
        if filters > FILTERS_PER_LOG_GROUP {
            ": apply the metric filters of fewer principals per log group (or rely on the EventBridge rules)"
        } else {
            ""
        }
    ));
    out.push_str("- Event names are CloudTrail's, derived from the IAM actions through leastpriv's CloudTrail mapping read backwards (`rules/cloudtrail*.yaml`): an event the mapping does not know may be reported as outside the policy.\n");
    let notes: Vec<(&PrincipalAlerts, &String)> = all
        .iter()
        .flat_map(|a| a.notes.iter().map(move |n| (a, n)))
        .collect();
    if !notes.is_empty() {
        out.push_str("\n## Notes\n\n");
        for (a, n) in notes {
            out.push_str(&format!("- `{}`: {n}\n", a.principal));
        }
    }
    out
}

/// Writes every file as one set (`output::write_atomic_all`): a run that
/// fails replaces none of the previous alerts.
pub fn write_all(
    all: &[PrincipalAlerts],
    dir: &Path,
) -> Result<Vec<(PathBuf, crate::output::Fate)>, crate::output::WriteError> {
    std::fs::create_dir_all(dir).map_err(|source| crate::output::WriteError {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<(PathBuf, Vec<u8>)> = vec![
        (dir.join("README.md"), readme(all).into_bytes()),
        (dir.join("variables.tf"), VARIABLES.as_bytes().to_vec()),
    ];
    for a in all {
        let stem = file_stem(a);
        files.push((dir.join(format!("{stem}.tf")), terraform(a).into_bytes()));
        let mut json = serde_json::to_string_pretty(&AlertsV1::of(a)).unwrap_or_default();
        json.push('\n');
        files.push((dir.join(format!("{stem}.json")), json.into_bytes()));
    }
    crate::output::write_atomic_all(&files)
}
