//! Schedule tests: table-driven rotations, layers, overrides, restrictions and DST; property
//! tests that `on_call_at` agrees with the shift listing and that nothing panics.

use jiff::Timestamp;
use proptest::prelude::*;

use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn schedule(json: &str) -> Schedule {
    let spec: ScheduleSpec = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    Schedule::parse(&spec).unwrap_or_else(|e| panic!("{e}: {json}"))
}

/// A one-layer schedule.
fn rotation(tz: &str, users: &[&str], shift: &str, handoff: &str) -> Schedule {
    Schedule::parse(&ScheduleSpec {
        name: "s".into(),
        time_zone: tz.into(),
        layers: vec![LayerSpec {
            users: users.iter().map(|u| u.to_string()).collect(),
            shift: shift.into(),
            handoff: handoff.into(),
            restrictions: vec![],
            start: None,
            end: None,
        }],
        overrides: vec![],
    })
    .unwrap()
}

/// `(user, start, end)` of `on_call_at`, instants printed in UTC.
fn on_call(s: &Schedule, at: &str) -> Option<(String, String, String)> {
    s.on_call_at(ts(at))
        .map(|o| (o.user, o.shift_start.to_string(), o.shift_end.to_string()))
}

fn expect(user: &str, start: &str, end: &str) -> Option<(String, String, String)> {
    Some((user.into(), ts(start).to_string(), ts(end).to_string()))
}

#[test]
fn rotations() {
    struct Case {
        what: &'static str,
        tz: &'static str,
        users: &'static [&'static str],
        shift: &'static str,
        handoff: &'static str,
        at: &'static str,
        want: (&'static str, &'static str, &'static str),
    }
    let cases = [
        Case {
            what: "weekly, at the handoff",
            tz: "UTC",
            users: &["a", "b", "c"],
            shift: "P7D",
            handoff: "2025-01-06T09:00:00Z",
            at: "2025-01-06T09:00:00Z",
            want: ("a", "2025-01-06T09:00:00Z", "2025-01-13T09:00:00Z"),
        },
        Case {
            what: "weekly, a second before the handoff: the rotation runs backwards too",
            tz: "UTC",
            users: &["a", "b", "c"],
            shift: "P7D",
            handoff: "2025-01-06T09:00:00Z",
            at: "2025-01-06T08:59:59Z",
            want: ("c", "2024-12-30T09:00:00Z", "2025-01-06T09:00:00Z"),
        },
        Case {
            what: "weekly, third turn wraps to the first user",
            tz: "UTC",
            users: &["a", "b", "c"],
            shift: "P1W",
            handoff: "2025-01-06T09:00:00Z",
            at: "2025-01-28T00:00:00Z",
            want: ("a", "2025-01-27T09:00:00Z", "2025-02-03T09:00:00Z"),
        },
        Case {
            what: "weekly, 1000 weeks later (index computed, not iterated)",
            tz: "UTC",
            users: &["a", "b", "c"],
            shift: "P7D",
            handoff: "2025-01-06T09:00:00Z",
            at: "2044-03-07T10:00:00Z",
            want: ("b", "2044-03-07T09:00:00Z", "2044-03-14T09:00:00Z"),
        },
        Case {
            what: "Berlin daily 09:00 over the spring change: a 23 h shift",
            tz: "Europe/Berlin",
            users: &["a", "b"],
            shift: "P1D",
            handoff: "2025-03-28T09:00:00+01:00",
            at: "2025-03-30T08:59:00+02:00",
            want: ("b", "2025-03-29T09:00:00+01:00", "2025-03-30T09:00:00+02:00"),
        },
        Case {
            what: "Berlin daily 09:00 after the spring change stays 09:00 local",
            tz: "Europe/Berlin",
            users: &["a", "b"],
            shift: "P1D",
            handoff: "2025-03-28T09:00:00+01:00",
            at: "2025-03-30T09:00:00+02:00",
            want: ("a", "2025-03-30T09:00:00+02:00", "2025-03-31T09:00:00+02:00"),
        },
        Case {
            what: "Berlin daily 09:00 over the autumn change: a 25 h shift",
            tz: "Europe/Berlin",
            users: &["a", "b"],
            shift: "P1D",
            handoff: "2025-10-24T09:00:00+02:00",
            at: "2025-10-26T02:30:00+01:00",
            want: ("b", "2025-10-25T09:00:00+02:00", "2025-10-26T09:00:00+01:00"),
        },
        Case {
            what: "New York daily 09:00 over the spring change",
            tz: "America/New_York",
            users: &["a", "b"],
            shift: "P1D",
            handoff: "2025-03-07T09:00:00-05:00",
            at: "2025-03-09T12:00:00Z",
            want: ("b", "2025-03-08T09:00:00-05:00", "2025-03-09T09:00:00-04:00"),
        },
        Case {
            what: "New York daily 09:00 over the autumn change",
            tz: "America/New_York",
            users: &["a", "b"],
            shift: "P1D",
            handoff: "2025-10-31T09:00:00-04:00",
            at: "2025-11-02T13:30:00Z",
            want: ("b", "2025-11-01T09:00:00-04:00", "2025-11-02T09:00:00-05:00"),
        },
        Case {
            what: "New York weekly handoff a month after the spring change keeps 09:00",
            tz: "America/New_York",
            users: &["a", "b"],
            shift: "P7D",
            handoff: "2025-01-06T09:00:00-05:00",
            at: "2025-04-14T13:00:00Z",
            want: ("a", "2025-04-14T09:00:00-04:00", "2025-04-21T09:00:00-04:00"),
        },
        Case {
            what: "12 h shifts: the Berlin spring night shift lasts 11 h",
            tz: "Europe/Berlin",
            users: &["day", "night"],
            shift: "PT12H",
            handoff: "2025-03-29T08:00:00+01:00",
            at: "2025-03-30T03:30:00+02:00",
            want: ("night", "2025-03-29T20:00:00+01:00", "2025-03-30T08:00:00+02:00"),
        },
        Case {
            what: "12 h shifts: the next day shift is 08:00–20:00 local again",
            tz: "Europe/Berlin",
            users: &["day", "night"],
            shift: "PT12H",
            handoff: "2025-03-29T08:00:00+01:00",
            at: "2025-03-30T12:00:00+02:00",
            want: ("day", "2025-03-30T08:00:00+02:00", "2025-03-30T20:00:00+02:00"),
        },
        Case {
            what: "12 h shifts: the Berlin autumn night shift lasts 13 h",
            tz: "Europe/Berlin",
            users: &["day", "night"],
            shift: "PT12H",
            handoff: "2025-10-25T08:00:00+02:00",
            at: "2025-10-26T02:30:00+01:00",
            want: ("night", "2025-10-25T20:00:00+02:00", "2025-10-26T08:00:00+01:00"),
        },
        Case {
            what: "12 h shifts over New York's spring night",
            tz: "America/New_York",
            users: &["day", "night"],
            shift: "PT12H",
            handoff: "2025-03-08T07:00:00-05:00",
            at: "2025-03-09T06:59:00-04:00",
            want: ("night", "2025-03-08T19:00:00-05:00", "2025-03-09T07:00:00-04:00"),
        },
        Case {
            what: "a handoff time that falls in the DST gap moves to the end of the gap",
            tz: "America/New_York",
            users: &["a", "b"],
            shift: "P1D",
            handoff: "2025-03-01T02:30:00-05:00",
            at: "2025-03-09T03:10:00-04:00",
            want: ("a", "2025-03-09T03:00:00-04:00", "2025-03-10T02:30:00-04:00"),
        },
        Case {
            what: "monthly from the 31st: last day of February, then the 31st again",
            tz: "UTC",
            users: &["a", "b"],
            shift: "P1M",
            handoff: "2025-01-31T09:00:00Z",
            at: "2025-03-01T00:00:00Z",
            want: ("b", "2025-02-28T09:00:00Z", "2025-03-31T09:00:00Z"),
        },
        Case {
            what: "a handoff given in another offset: its local wall-clock time counts",
            tz: "Europe/Berlin",
            users: &["a", "b"],
            shift: "P1D",
            handoff: "2025-01-01T08:00:00Z",
            at: "2025-07-01T08:30:00Z",
            want: ("b", "2025-07-01T09:00:00+02:00", "2025-07-02T09:00:00+02:00"),
        },
    ];
    for c in cases {
        let s = rotation(c.tz, c.users, c.shift, c.handoff);
        let (user, start, end) = c.want;
        assert_eq!(on_call(&s, c.at), expect(user, start, end), "{}", c.what);
    }
}

#[test]
fn a_handoff_in_the_gap_makes_shorter_shifts_either_side() {
    let s = rotation("America/New_York", &["a", "b"], "P1D", "2025-03-01T02:30:00-05:00");
    assert_eq!(
        on_call(&s, "2025-03-09T06:00:00Z"),
        expect("b", "2025-03-08T02:30:00-05:00", "2025-03-09T03:00:00-04:00")
    );
}

const LAYERED: &str = r#"{
    "name": "ic", "time_zone": "Europe/Berlin",
    "layers": [
        {"users": ["a", "b"], "shift": "P7D", "handoff": "2025-01-06T08:00:00+01:00"},
        {"users": ["x", "y"], "shift": "P7D", "handoff": "2025-01-06T00:00:00+01:00",
         "restrictions": [{"type": "daily", "start": "09:00", "end": "17:00",
                           "days": ["mon", "tue", "wed", "thu", "fri"]}]}
    ]}"#;

#[test]
fn later_layers_win_where_they_have_someone() {
    let s = schedule(LAYERED);
    let cases = [
        // Monday 2025-01-13, 10:00 local: the business-hours layer.
        (
            "2025-01-13T10:00:00+01:00",
            Some((
                "y",
                Source::Layer(1),
                "2025-01-13T09:00:00+01:00",
                "2025-01-13T17:00:00+01:00",
            )),
        ),
        // Monday 08:30: layer 0 handed off to b at 08:00; layer 1 starts at 09:00.
        (
            "2025-01-13T08:30:00+01:00",
            Some((
                "b",
                Source::Layer(0),
                "2025-01-13T08:00:00+01:00",
                "2025-01-13T09:00:00+01:00",
            )),
        ),
        // Monday 07:00: still a's week, since the previous Friday 17:00.
        (
            "2025-01-13T07:00:00+01:00",
            Some((
                "a",
                Source::Layer(0),
                "2025-01-10T17:00:00+01:00",
                "2025-01-13T08:00:00+01:00",
            )),
        ),
        // Tuesday evening: layer 0 between two business days.
        (
            "2025-01-14T20:00:00+01:00",
            Some((
                "b",
                Source::Layer(0),
                "2025-01-14T17:00:00+01:00",
                "2025-01-15T09:00:00+01:00",
            )),
        ),
        // Saturday: layer 1 rests.
        (
            "2025-01-18T12:00:00+01:00",
            Some((
                "b",
                Source::Layer(0),
                "2025-01-17T17:00:00+01:00",
                "2025-01-20T08:00:00+01:00",
            )),
        ),
    ];
    for (at, want) in cases {
        let got = s.on_call_at(ts(at));
        let want = want.map(|(user, source, start, end)| OnCall {
            user: user.into(),
            source,
            shift_start: ts(start),
            shift_end: ts(end),
        });
        assert_eq!(got, want, "{at}");
    }
}

#[test]
fn listing_combines_layers_and_overrides() {
    let mut s = schedule(LAYERED);
    s.add_override(Override::new("o", ts("2025-01-14T12:00:00+01:00"), ts("2025-01-14T19:00:00+01:00")).unwrap())
        .unwrap();
    let got: Vec<(String, Source, String, String)> = s
        .shifts(ts("2025-01-13T00:00:00+01:00"), ts("2025-01-15T00:00:00+01:00"))
        .unwrap()
        .into_iter()
        .map(|sh| (sh.user, sh.source, sh.start.to_string(), sh.end.to_string()))
        .collect();
    let want: Vec<(String, Source, String, String)> = [
        (
            "a",
            Source::Layer(0),
            "2025-01-13T00:00:00+01:00",
            "2025-01-13T08:00:00+01:00",
        ),
        (
            "b",
            Source::Layer(0),
            "2025-01-13T08:00:00+01:00",
            "2025-01-13T09:00:00+01:00",
        ),
        (
            "y",
            Source::Layer(1),
            "2025-01-13T09:00:00+01:00",
            "2025-01-13T17:00:00+01:00",
        ),
        (
            "b",
            Source::Layer(0),
            "2025-01-13T17:00:00+01:00",
            "2025-01-14T09:00:00+01:00",
        ),
        (
            "y",
            Source::Layer(1),
            "2025-01-14T09:00:00+01:00",
            "2025-01-14T12:00:00+01:00",
        ),
        (
            "o",
            Source::Override(0),
            "2025-01-14T12:00:00+01:00",
            "2025-01-14T19:00:00+01:00",
        ),
        (
            "b",
            Source::Layer(0),
            "2025-01-14T19:00:00+01:00",
            "2025-01-15T00:00:00+01:00",
        ),
    ]
    .into_iter()
    .map(|(u, src, a, b)| (u.to_owned(), src, ts(a).to_string(), ts(b).to_string()))
    .collect();
    assert_eq!(got, want);
    // The override's stretch as on_call_at sees it, and the layer shift it cut short.
    assert_eq!(
        on_call(&s, "2025-01-14T13:00:00+01:00"),
        expect("o", "2025-01-14T12:00:00+01:00", "2025-01-14T19:00:00+01:00")
    );
    assert_eq!(
        on_call(&s, "2025-01-14T11:00:00+01:00"),
        expect("y", "2025-01-14T09:00:00+01:00", "2025-01-14T12:00:00+01:00")
    );
}

#[test]
fn overrides_refuse_overlap_and_allow_touching() {
    let base = r#"{"name": "s", "time_zone": "UTC",
        "layers": [{"users": ["a"], "shift": "P1D", "handoff": "2025-01-01T00:00:00Z"}],
        "overrides": OVERRIDES}"#;
    let cases = [
        (
            r#"[{"user":"o","start":"2025-01-02T00:00:00Z","end":"2025-01-03T00:00:00Z"},
             {"user":"p","start":"2025-01-03T00:00:00Z","end":"2025-01-04T00:00:00Z"}]"#,
            None,
        ),
        (
            r#"[{"user":"o","start":"2025-01-02T00:00:00Z","end":"2025-01-03T00:00:01Z"},
             {"user":"p","start":"2025-01-03T00:00:00Z","end":"2025-01-04T00:00:00Z"}]"#,
            Some("overlapping_overrides"),
        ),
        // Given out of order, one inside another.
        (
            r#"[{"user":"p","start":"2025-01-05T00:00:00Z","end":"2025-01-06T00:00:00Z"},
             {"user":"o","start":"2025-01-01T00:00:00Z","end":"2025-01-09T00:00:00Z"}]"#,
            Some("overlapping_overrides"),
        ),
        (
            r#"[{"user":"o","start":"2025-01-03T00:00:00Z","end":"2025-01-03T00:00:00Z"}]"#,
            Some("invalid_field"),
        ),
        (
            r#"[{"user":"","start":"2025-01-03T00:00:00Z","end":"2025-01-04T00:00:00Z"}]"#,
            Some("invalid_field"),
        ),
        (
            r#"[{"user":"o","start":"yesterday","end":"2025-01-04T00:00:00Z"}]"#,
            Some("invalid_field"),
        ),
    ];
    for (overrides, want) in cases {
        let spec: ScheduleSpec = serde_json::from_str(&base.replace("OVERRIDES", overrides)).unwrap();
        assert_eq!(Schedule::parse(&spec).err().map(|e| e.code()), want, "{overrides}");
    }

    let mut s = rotation("UTC", &["a"], "P1D", "2025-01-01T00:00:00Z");
    let first = Override::new("o", ts("2025-01-02T00:00:00Z"), ts("2025-01-03T00:00:00Z")).unwrap();
    assert_eq!(s.add_override(first.clone()), Ok(0));
    let before = Override::new("p", ts("2025-01-01T00:00:00Z"), ts("2025-01-02T00:00:00Z")).unwrap();
    assert_eq!(s.add_override(before), Ok(0));
    let clash = Override::new("q", ts("2025-01-02T12:00:00Z"), ts("2025-01-05T00:00:00Z")).unwrap();
    let err = s.add_override(clash).unwrap_err();
    assert_eq!(err.code(), "overlapping_overrides");
    assert!(err.to_string().contains("overlaps the override for o"), "{err}");
    assert_eq!(on_call(&s, "2025-01-02T06:00:00Z").unwrap().0, "o");
    assert!(s.remove_override(&first));
    assert_eq!(on_call(&s, "2025-01-02T06:00:00Z").unwrap().0, "a");
    assert!(Override::new("o", ts("2025-01-02T00:00:00Z"), ts("2025-01-01T00:00:00Z")).is_err());
}

#[test]
fn restrictions() {
    struct Case {
        what: &'static str,
        restrictions: &'static str,
        at: &'static str,
        want: Option<(&'static str, &'static str)>,
    }
    let cases = [
        Case {
            what: "weekend window, inside",
            restrictions: r#"[{"type":"weekly","start_day":"fri","start":"18:00","end_day":"mon","end":"08:00"}]"#,
            at: "2025-01-11T12:00:00Z",
            want: Some(("2025-01-10T18:00:00Z", "2025-01-13T08:00:00Z")),
        },
        Case {
            what: "weekend window, midweek: nobody",
            restrictions: r#"[{"type":"weekly","start_day":"fri","start":"18:00","end_day":"mon","end":"08:00"}]"#,
            at: "2025-01-15T12:00:00Z",
            want: None,
        },
        Case {
            what: "overnight daily window runs past midnight",
            restrictions: r#"[{"type":"daily","start":"22:00","end":"06:00"}]"#,
            at: "2025-01-15T03:00:00Z",
            want: Some(("2025-01-14T22:00:00Z", "2025-01-15T06:00:00Z")),
        },
        Case {
            what: "overnight window starting on listed days only (Friday night runs into Saturday)",
            restrictions: r#"[{"type":"daily","start":"22:00","end":"06:00","days":["fri"]}]"#,
            at: "2025-01-11T05:59:59Z",
            want: Some(("2025-01-10T22:00:00Z", "2025-01-11T06:00:00Z")),
        },
        Case {
            what: "overnight window on Friday only: Saturday night is free",
            restrictions: r#"[{"type":"daily","start":"22:00","end":"06:00","days":["fri"]}]"#,
            at: "2025-01-11T23:00:00Z",
            want: None,
        },
        Case {
            what: "all day on weekdays, touching days join",
            restrictions: r#"[{"type":"daily","start":"00:00","end":"24:00","days":["mon","tue","wed","thu","fri"]}]"#,
            at: "2025-01-15T12:00:00Z",
            want: Some(("2025-01-13T00:00:00Z", "2025-01-18T00:00:00Z")),
        },
        Case {
            what: "the end is exclusive",
            restrictions: r#"[{"type":"daily","start":"09:00","end":"17:00"}]"#,
            at: "2025-01-15T17:00:00Z",
            want: None,
        },
    ];
    for c in cases {
        // One user, shifts of a year: the window alone decides the stretch.
        let json = format!(
            r#"{{"name":"s","time_zone":"UTC","layers":[{{"users":["u"],"shift":"P1Y",
                "handoff":"2025-01-01T00:00:00Z","restrictions":{}}}]}}"#,
            c.restrictions
        );
        let s = schedule(&json);
        assert_eq!(
            on_call(&s, c.at),
            c.want.and_then(|(start, end)| expect("u", start, end)),
            "{}",
            c.what
        );
    }
}

#[test]
fn restriction_windows_keep_local_hours_across_dst() {
    // Business hours in New York, the week of the spring change and the week of the autumn one.
    let s = schedule(
        r#"{"name":"s","time_zone":"America/New_York","layers":[{"users":["u"],"shift":"P1Y",
            "handoff":"2025-01-01T00:00:00-05:00",
            "restrictions":[{"type":"daily","start":"09:00","end":"17:00"}]}]}"#,
    );
    for (at, start, end) in [
        (
            "2025-03-08T15:00:00Z",
            "2025-03-08T09:00:00-05:00",
            "2025-03-08T17:00:00-05:00",
        ),
        (
            "2025-03-09T15:00:00Z",
            "2025-03-09T09:00:00-04:00",
            "2025-03-09T17:00:00-04:00",
        ),
        (
            "2025-11-01T15:00:00Z",
            "2025-11-01T09:00:00-04:00",
            "2025-11-01T17:00:00-04:00",
        ),
        (
            "2025-11-02T15:00:00Z",
            "2025-11-02T09:00:00-05:00",
            "2025-11-02T17:00:00-05:00",
        ),
    ] {
        assert_eq!(on_call(&s, at), expect("u", start, end), "{at}");
    }
    // A window inside the repeated hour of the autumn night: 01:00–02:00 local happens twice;
    // the window runs from the first 01:00 to the (only) 02:00, two real hours.
    let s = schedule(
        r#"{"name":"s","time_zone":"America/New_York","layers":[{"users":["u"],"shift":"P1Y",
            "handoff":"2025-01-01T00:00:00-05:00",
            "restrictions":[{"type":"daily","start":"01:00","end":"02:00"}]}]}"#,
    );
    assert_eq!(
        on_call(&s, "2025-11-02T01:30:00-05:00"),
        expect("u", "2025-11-02T01:00:00-04:00", "2025-11-02T02:00:00-05:00")
    );
    // A window inside the spring gap (02:00–03:00 does not exist): nobody, and no panic.
    let s = schedule(
        r#"{"name":"s","time_zone":"America/New_York","layers":[{"users":["u"],"shift":"P1Y",
            "handoff":"2025-01-01T00:00:00-05:00",
            "restrictions":[{"type":"daily","start":"02:00","end":"03:00"}]}]}"#,
    );
    assert_eq!(on_call(&s, "2025-03-09T03:00:00-04:00"), None);
    let listed = s
        .shifts(ts("2025-03-09T00:00:00-05:00"), ts("2025-03-10T00:00:00-04:00"))
        .unwrap();
    assert!(listed.is_empty(), "{listed:?}");
}

#[test]
fn layer_active_period() {
    let s = schedule(
        r#"{"name":"s","time_zone":"UTC","layers":[
            {"users":["old"],"shift":"P7D","handoff":"2025-01-06T09:00:00Z"},
            {"users":["new"],"shift":"P7D","handoff":"2025-01-06T09:00:00Z",
             "start":"2025-02-01T00:00:00Z","end":"2025-03-01T00:00:00Z"}]}"#,
    );
    assert_eq!(on_call(&s, "2025-01-31T23:00:00Z").unwrap().0, "old");
    assert_eq!(
        on_call(&s, "2025-02-01T00:00:00Z"),
        expect("new", "2025-02-01T00:00:00Z", "2025-02-03T09:00:00Z")
    );
    assert_eq!(
        on_call(&s, "2025-02-28T23:00:00Z"),
        expect("new", "2025-02-24T09:00:00Z", "2025-03-01T00:00:00Z")
    );
    assert_eq!(
        on_call(&s, "2025-03-01T00:00:00Z"),
        expect("old", "2025-03-01T00:00:00Z", "2025-03-03T09:00:00Z")
    );
}

#[test]
fn bad_schedules_are_refused_with_the_field() {
    let layer = r#"{"users":["a"],"shift":"P7D","handoff":"2025-01-06T09:00:00Z"}"#;
    let cases: &[(&str, &str, &str)] = &[
        (
            r#"{"name":"","time_zone":"UTC","layers":[LAYER]}"#,
            "invalid_field",
            "name",
        ),
        (
            r#"{"name":"s","time_zone":"Mars/Olympus","layers":[LAYER]}"#,
            "unknown_time_zone",
            "",
        ),
        (
            r#"{"name":"s","time_zone":"UTC","layers":[]}"#,
            "invalid_field",
            "layers",
        ),
        (
            r#"{"name":"s","time_zone":"UTC","layers":[LAYER,{"users":[],"shift":"P7D","handoff":"2025-01-06T09:00:00Z"}]}"#,
            "invalid_field",
            "layers[1].users",
        ),
        (
            r#"{"name":"s","time_zone":"UTC","layers":[{"users":["a"," "],"shift":"P7D","handoff":"2025-01-06T09:00:00Z"}]}"#,
            "invalid_field",
            "layers[0].users[1]",
        ),
        (
            r#"{"name":"s","time_zone":"UTC","layers":[{"users":["a"],"shift":"PT0S","handoff":"2025-01-06T09:00:00Z"}]}"#,
            "invalid_field",
            "layers[0].shift",
        ),
        (
            r#"{"name":"s","time_zone":"UTC","layers":[{"users":["a"],"shift":"-P1D","handoff":"2025-01-06T09:00:00Z"}]}"#,
            "invalid_field",
            "layers[0].shift",
        ),
        (
            r#"{"name":"s","time_zone":"UTC","layers":[{"users":["a"],"shift":"PT59M","handoff":"2025-01-06T09:00:00Z"}]}"#,
            "invalid_field",
            "layers[0].shift",
        ),
        (
            r#"{"name":"s","time_zone":"UTC","layers":[{"users":["a"],"shift":"P2Y","handoff":"2025-01-06T09:00:00Z"}]}"#,
            "invalid_field",
            "layers[0].shift",
        ),
        (
            r#"{"name":"s","time_zone":"UTC","layers":[{"users":["a"],"shift":"weekly","handoff":"2025-01-06T09:00:00Z"}]}"#,
            "invalid_field",
            "layers[0].shift",
        ),
        (
            r#"{"name":"s","time_zone":"UTC","layers":[{"users":["a"],"shift":"P7D","handoff":"2025-01-06 09:00"}]}"#,
            "invalid_field",
            "layers[0].handoff",
        ),
        (
            r#"{"name":"s","time_zone":"UTC","layers":[{"users":["a"],"shift":"P7D","handoff":"2025-01-06T09:00:00Z","start":"2025-02-01T00:00:00Z","end":"2025-01-01T00:00:00Z"}]}"#,
            "invalid_field",
            "layers[0].end",
        ),
        (
            r#"{"name":"s","time_zone":"UTC","layers":[{"users":["a"],"shift":"P7D","handoff":"2025-01-06T09:00:00Z","restrictions":[{"type":"daily","start":"9:00","end":"17:00"}]}]}"#,
            "invalid_field",
            "layers[0].restrictions[0].start",
        ),
    ];
    for (json, code, field) in cases {
        let spec: ScheduleSpec = serde_json::from_str(&json.replace("LAYER", layer)).unwrap();
        let err = Schedule::parse(&spec).unwrap_err();
        assert_eq!(err.code(), *code, "{json}: {err}");
        if let NotifyError::Invalid { field: got, .. } = &err {
            assert_eq!(got, field, "{json}");
        }
    }
    let eleven = [layer; MAX_LAYERS + 1].join(",");
    let spec: ScheduleSpec =
        serde_json::from_str(&format!(r#"{{"name":"s","time_zone":"UTC","layers":[{eleven}]}}"#)).unwrap();
    assert_eq!(Schedule::parse(&spec).unwrap_err().code(), "invalid_field");
}

#[test]
fn specs_round_trip_and_accept_the_contract_shape() {
    // The body of POST /api/v1/oncall/schedules deserializes straight into a spec.
    let s = schedule(
        r#"{"name":"ic-primary","time_zone":"europe/berlin","rotations":[
            {"users":["a","b"],"shift":"P7D","handoff":"2025-01-06T09:00:00+01:00",
             "restrictions":[{"type":"daily","start":"09:00","end":"24:00","days":["Monday","fri"]}]}],
           "overrides":[{"user":"o","start":"2025-01-07T00:00:00Z","end":"2025-01-08T00:00:00Z"}]}"#,
    );
    assert_eq!(s.time_zone_name(), "Europe/Berlin");
    let spec = s.to_spec();
    assert_eq!(spec.layers[0].shift, "P7D");
    assert_eq!(spec.layers[0].handoff, "2025-01-06T08:00:00Z");
    assert_eq!(Schedule::parse(&spec).unwrap(), s);
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(serde_json::from_str::<Schedule>(&json).unwrap(), s);
    assert_eq!(s.users().into_iter().collect::<Vec<_>>(), ["a", "b", "o"]);
    // Deserializing a Schedule validates.
    assert!(serde_json::from_str::<Schedule>(r#"{"name":"s","time_zone":"UTC","layers":[]}"#).is_err());
}

#[test]
fn listing_windows_are_bounded() {
    let s = rotation("UTC", &["a"], "PT1H", "2025-01-01T00:00:00Z");
    let from = ts("2025-01-01T00:00:00Z");
    assert_eq!(s.shifts(from, from).unwrap_err().code(), "invalid_window");
    assert_eq!(
        s.shifts(from, ts("2024-01-01T00:00:00Z")).unwrap_err().code(),
        "invalid_window"
    );
    assert_eq!(
        s.shifts(from, ts("2026-03-01T00:00:00Z")).unwrap_err().code(),
        "invalid_window"
    );
    let year = s.shifts(from, ts("2026-01-01T00:00:00Z")).unwrap();
    assert_eq!(year.len(), 365 * 24);
}

#[test]
fn absurd_instants_answer_without_looping() {
    let s = rotation("Europe/Berlin", &["a", "b", "c"], "PT1H", "2025-01-01T00:00:00Z");
    // Handoff in 2025, questions about the edges of representable time.
    for at in [
        Timestamp::MIN,
        Timestamp::MAX,
        ts("-009000-06-01T00:00:00Z"),
        ts("9000-06-01T00:00:00Z"),
    ] {
        let _ = s.on_call_at(at);
    }
    let got = s.on_call_at(ts("9000-06-01T00:30:00Z")).unwrap();
    assert_eq!(
        got.shift_end.duration_since(got.shift_start),
        SignedDuration::from_hours(1)
    );
    let far = rotation("UTC", &["a"], "P1Y", "9999-01-01T00:00:00Z");
    assert_eq!(far.on_call_at(ts("-009999-06-01T00:00:00Z")).unwrap().user, "a");
}

// ---- property tests ----------------------------------------------------------------------

const ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe", // a 30-minute DST change
    "Asia/Kolkata",
];
const SHIFTS: &[&str] = &["PT1H", "PT5H", "PT12H", "P1D", "P1DT6H", "P7D", "P1M", "P1Y"];

fn instant_near_2025(days: i64, secs: i64) -> Timestamp {
    ts("2025-01-01T00:00:00Z") + SignedDuration::from_secs(days * 86_400 + secs)
}

fn restriction_strategy() -> impl Strategy<Value = RestrictionSpec> {
    let day = prop::sample::select(vec!["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
    let time = (0u32..24, prop::sample::select(vec![0u32, 30])).prop_map(|(h, m)| format!("{h:02}:{m:02}"));
    prop_oneof![
        (time.clone(), time.clone(), prop::collection::vec(day.clone(), 0..4)).prop_map(|(start, end, days)| {
            RestrictionSpec::Daily {
                start,
                end,
                days: days.into_iter().map(str::to_owned).collect(),
            }
        }),
        (day.clone(), time.clone(), day, time).prop_map(|(sd, start, ed, end)| {
            RestrictionSpec::Weekly {
                start_day: sd.into(),
                start,
                end_day: ed.into(),
                end,
            }
        }),
    ]
}

fn layer_strategy() -> impl Strategy<Value = LayerSpec> {
    (
        prop::collection::vec(prop::sample::select(vec!["a", "b", "c", "d"]), 1..4),
        prop::sample::select(SHIFTS),
        -2000i64..2000,
        0i64..86_400,
        prop::collection::vec(restriction_strategy(), 0..3),
        prop::option::of((-400i64..400, 1i64..400)),
    )
        .prop_map(|(users, shift, days, secs, restrictions, active)| LayerSpec {
            users: users.into_iter().map(str::to_owned).collect(),
            shift: shift.to_owned(),
            handoff: instant_near_2025(days, secs).to_string(),
            restrictions,
            start: active.map(|(d, _)| instant_near_2025(d, 0).to_string()),
            end: active.map(|(d, len)| instant_near_2025(d + len, 0).to_string()),
        })
}

fn schedule_strategy() -> impl Strategy<Value = ScheduleSpec> {
    (
        prop::sample::select(ZONES),
        prop::collection::vec(layer_strategy(), 1..4),
    )
        .prop_map(|(zone, layers)| ScheduleSpec {
            name: "p".into(),
            time_zone: zone.into(),
            layers,
            overrides: vec![],
        })
}

/// A window start: anywhere within about a year of 2025, or just before a DST change of
/// one of [`ZONES`] (days of 2025: New York 67/305, Berlin 88/298, Lord Howe 95/277).
fn window_start_day() -> impl Strategy<Value = i64> {
    prop_oneof![
        -400i64..400,
        (prop::sample::select(vec![67i64, 88, 95, 277, 298, 305]), 0i64..3).prop_map(|(d, back)| d - back),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// `on_call_at` agrees with the listing at every boundary and at random instants: same
    /// user and source, a stretch containing the listed one and equal to it where the listing
    /// did not clip it; nobody where the listing has a hole.
    #[test]
    fn on_call_at_agrees_with_the_listing(
        spec in schedule_strategy(),
        from_day in window_start_day(),
        from_secs in 0i64..86_400,
        len_hours in 1i64..(24 * 21),
        // Overrides as (gap before, length) in hours from the window start: disjoint.
        overrides in prop::collection::vec((-24i64..100, 1i64..48), 0..4),
        probes in prop::collection::vec(0.0f64..1.0, 8),
    ) {
        // Restrictions drawn at random may be empty windows; those specs are refused, fine.
        let Ok(mut s) = Schedule::parse(&spec) else { return Ok(()) };
        let from = instant_near_2025(from_day, from_secs);
        let to = from + SignedDuration::from_hours(len_hours);
        let mut at = from;
        for (gap, len) in overrides {
            let start = at + SignedDuration::from_hours(gap);
            let end = start + SignedDuration::from_hours(len);
            // A negative gap may overlap the previous override: then it must be refused.
            match s.add_override(Override::new("o", start, end).unwrap()) {
                Ok(_) => at = at.max(end),
                Err(e) => prop_assert_eq!(e.code(), "overlapping_overrides"),
            }
        }
        let listed = s.shifts(from, to).unwrap();
        for pair in listed.windows(2) {
            prop_assert!(pair[0].end <= pair[1].start, "{pair:?}");
        }
        let mut instants: Vec<Timestamp> = Vec::new();
        for shift in &listed {
            prop_assert!(from <= shift.start && shift.start < shift.end && shift.end <= to);
            instants.push(shift.start);
            instants.push(shift.end - SignedDuration::from_nanos(1));
        }
        let span = to.duration_since(from).as_secs_f64();
        instants.extend(probes.iter().map(|p| from + SignedDuration::from_secs_f64(span * p)));
        for t in instants {
            let listed_at = listed.iter().find(|sh| sh.start <= t && t < sh.end);
            let got = s.on_call_at(t);
            match (listed_at, got) {
                (None, None) => {}
                (Some(sh), Some(oc)) => {
                    prop_assert_eq!(&oc.user, &sh.user, "at {}", t);
                    prop_assert_eq!(oc.source, sh.source, "at {}", t);
                    prop_assert!(oc.shift_start <= sh.start && sh.end <= oc.shift_end, "at {t}: {oc:?} vs {sh:?}");
                    if sh.start > from {
                        prop_assert_eq!(oc.shift_start, sh.start, "at {}", t);
                    }
                    if sh.end < to {
                        prop_assert_eq!(oc.shift_end, sh.end, "at {}", t);
                    }
                }
                (listed_at, got) => prop_assert!(false, "at {t}: listed {listed_at:?}, on_call_at {got:?}"),
            }
        }
    }

    /// Arbitrary strings never panic the parser, and arbitrary instants never panic a query.
    #[test]
    fn never_panics(
        zone in prop::sample::select(ZONES),
        shift in ".{0,12}",
        handoff in ".{0,30}",
        start in ".{0,8}",
        end in ".{0,8}",
        secs in (Timestamp::MIN.as_second())..(Timestamp::MAX.as_second()),
        handoff_secs in (Timestamp::MIN.as_second())..(Timestamp::MAX.as_second()),
        shift_index in 0usize..SHIFTS.len(),
    ) {
        let spec = ScheduleSpec {
            name: "p".into(),
            time_zone: zone.into(),
            layers: vec![LayerSpec {
                users: vec!["a".into()],
                shift,
                handoff,
                restrictions: vec![RestrictionSpec::Daily { start, end, days: vec![] }],
                start: None,
                end: None,
            }],
            overrides: vec![],
        };
        let _ = Schedule::parse(&spec);
        let handoff = Timestamp::from_second(handoff_secs).unwrap();
        let s = rotation(zone, &["a", "b"], SHIFTS[shift_index], &handoff.to_string());
        let t = Timestamp::from_second(secs).unwrap();
        if let Some(oc) = s.on_call_at(t) {
            prop_assert!(oc.shift_start <= t && t < oc.shift_end);
        }
        let _ = s.shifts(t, t + SignedDuration::from_hours(48).min(Timestamp::MAX.duration_since(t)));
    }
}
