//! AWS CloudTrail records (from a `{"Records":[…]}` file or one record per line), mapped as
//! Security Lake does: `ConsoleLogin` and STS logons are authentication, everything else an
//! API call. The acting identity is `userIdentity.userName`, else the session issuer's name,
//! else the last part of the ARN; IAM calls on a user (`CreateUser`, `CreateAccessKey`, …)
//! name it as the target user. `errorCode` or a failed console login make the outcome a failure.

use serde_json::Value;

use super::Cx;
use super::jsonl::{get, get_str, timestamp};
use crate::event::{Event, EventKind, Outcome, Provenance};
use crate::format::Format;
use crate::scan::parse_ip;

/// Whether a JSON record is a CloudTrail record.
pub(crate) fn is_cloudtrail(v: &Value) -> bool {
    v.get("eventName").is_some() && (v.get("eventSource").is_some() || v.get("eventVersion").is_some())
}

/// Maps one CloudTrail record.
pub(crate) fn map(v: &Value, prov: Provenance, cx: &mut Cx) -> Result<Event, String> {
    let (ts, text) = get(v, "eventTime")
        .and_then(|t| timestamp(t, cx))
        .ok_or_else(|| "CloudTrail record without a readable eventTime".to_string())?;
    let name = get_str(v, &["eventName"]).unwrap_or_default();
    let source = get_str(v, &["eventSource"]).unwrap_or_default();
    let kind = match name.as_str() {
        "ConsoleLogin"
        | "CheckMfa"
        | "SwitchRole"
        | "ExitRole"
        | "AssumeRole"
        | "AssumeRoleWithSAML"
        | "AssumeRoleWithWebIdentity"
        | "GetSessionToken"
        | "GetFederationToken"
        | "Federate" => EventKind::Authentication,
        _ => EventKind::Api,
    };
    let mut ev = cx.event(ts, &text, kind, Format::CloudTrail, prov);
    ev.action = Some(name.clone().into());
    let src = get_str(v, &["sourceIPAddress"]);
    ev.src_ip = src.as_deref().and_then(parse_ip);
    if let (Some(s), None) = (&src, ev.src_ip) {
        ev.push_attribute("source_service", s.clone());
    }
    ev.user = get_str(
        v,
        &[
            "userIdentity.userName",
            "userIdentity.sessionContext.sessionIssuer.userName",
            "additionalEventData.UserName",
        ],
    )
    .or_else(|| get_str(v, &["userIdentity.arn"]).map(|arn| arn.rsplit(['/', ':']).next().unwrap_or(&arn).to_string()))
    .or_else(|| get_str(v, &["userIdentity.invokedBy"]));
    ev.target_user = get_str(v, &["requestParameters.userName", "requestParameters.roleSessionName"]);
    let error = get_str(v, &["errorCode"]);
    let console = get_str(v, &["responseElements.ConsoleLogin"]);
    ev.outcome = match (&error, console.as_deref()) {
        (Some(_), _) | (_, Some("Failure")) => Outcome::Failure,
        (None, _) => Outcome::Success,
    };
    if let Some(ua) = get_str(v, &["userAgent"]) {
        ev.http_mut().user_agent = Some(ua);
    }
    for (key, attr) in [
        ("eventSource", "event_source"),
        ("awsRegion", "region"),
        ("recipientAccountId", "account"),
        ("userIdentity.type", "identity_type"),
        ("userIdentity.arn", "arn"),
        ("userIdentity.accessKeyId", "access_key_id"),
        ("errorCode", "error_code"),
        ("errorMessage", "error_message"),
        ("eventID", "event_id"),
        ("eventType", "event_type"),
    ] {
        if let Some(val) = get_str(v, &[key]) {
            ev.push_attribute(attr, val);
        }
    }
    for key in ["requestParameters", "responseElements"] {
        if let Some(val @ Value::Object(_)) = get(v, key) {
            let t = val.to_string();
            ev.push_attribute(key, crate::scan::truncate_str(&t, 8192));
        }
    }
    let who = ev.user.as_deref().unwrap_or("?");
    ev.message = match &error {
        Some(e) => format!("{source} {name} by {who} failed: {e}"),
        None => format!("{source} {name} by {who}"),
    };
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use crate::{EventKind, Format, Outcome, ParseOptions, parse_all};

    const FILE: &str = r#"{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/alice","accountId":"123456789012","userName":"alice"},"eventTime":"2024-03-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"Mozilla","responseElements":{"ConsoleLogin":"Failure"},"eventID":"e1"},
{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/Admin/bob","sessionContext":{"sessionIssuer":{"userName":"Admin"}}},"eventTime":"2024-03-01T10:05:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","sourceIPAddress":"iam.amazonaws.com","requestParameters":{"userName":"mallory"}}]}"#;

    #[test]
    fn records_file_and_lines() {
        let out = parse_all(FILE.as_bytes(), &ParseOptions::new("ct"));
        assert_eq!(out.format, Some(Format::CloudTrail));
        assert_eq!(out.events.len(), 2, "{:?}", out.diagnostics);
        let e = &out.events;
        assert_eq!((e[0].kind, e[0].outcome), (EventKind::Authentication, Outcome::Failure));
        assert_eq!(e[0].user.as_deref(), Some("alice"));
        assert_eq!(e[0].src_ip.unwrap().to_string(), "198.51.100.7");
        assert_eq!((e[1].kind, e[1].user.as_deref()), (EventKind::Api, Some("Admin")));
        assert_eq!(e[1].target_user.as_deref(), Some("mallory"));
        assert_eq!(e[1].provenance.line, 2);
        let lines = "{\"eventVersion\":\"1.08\",\"eventTime\":\"2024-03-01T10:00:00Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\",\"errorCode\":\"AccessDenied\",\"userIdentity\":{\"arn\":\"arn:aws:iam::1:user/eve\"}}\n";
        let out = parse_all(lines.as_bytes(), &ParseOptions::new("ct"));
        assert_eq!(out.format, Some(Format::CloudTrail));
        assert_eq!(out.events[0].user.as_deref(), Some("eve"));
        assert_eq!(out.events[0].outcome, Outcome::Failure);
    }
}
