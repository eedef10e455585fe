//! Bounded fuzzing of ingest's two external decoders, run with the suite:
//! the Graphite plaintext line and the HTTP JSON body. Each property runs a
//! fixed number of generated inputs (a few seconds); a failure prints the
//! shrunk input. Properties: nothing panics, and whatever is accepted is a
//! valid datapoint (name 1..=255 bytes without whitespace or control
//! characters, finite value, timestamp in 0..=MAX_TIMESTAMP).
//!
//! Cases per property: `PROPTEST_CASES`, 3000 unless set (`.cargo/config.toml`);
//! longer runs: `PROPTEST_CASES=200000 cargo test -p skyline-ingest --test fuzz_decoders`.

use ingest::line::{parse_json_array, parse_line, validate_metric_name, LineFormat, MAX_TIMESTAMP};
use proptest::prelude::*;
use topics::Datapoint;

fn valid(d: &Datapoint) -> bool {
    validate_metric_name(&d.metric).is_ok()
        && d.value.is_finite()
        && (0..=MAX_TIMESTAMP).contains(&d.timestamp)
}

/// A field as a hostile client writes it: numbers of every shape, words,
/// control characters, long runs.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..=MAX_TIMESTAMP).prop_map(|n| n.to_string()),
        proptest::collection::vec(proptest::char::range('.', 'z'), 1..40)
            .prop_map(|c| c.into_iter().collect()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|x| x.to_string()),
        any::<f64>().prop_map(|x| format!("{x:e}")),
        Just("nan".to_owned()),
        Just("-inf".to_owned()),
        Just("1e309".to_owned()),
        Just("1700000000.9999999999".to_owned()),
        Just("0x10".to_owned()),
        any::<String>(),
        (any::<char>(), 0..600usize).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
}

proptest! {
    #[test]
    fn graphite_lines_that_are_valid_are_accepted_as_written(
        name in proptest::collection::vec(proptest::char::range('!', '~'), 1..=255),
        value in any::<f64>().prop_filter("finite", |v| v.is_finite()),
        timestamp in 0..=MAX_TIMESTAMP,
    ) {
        let name: String = name.into_iter().collect();
        let line = format!("{name} {value} {timestamp}\n");
        let d = parse_line(LineFormat::Graphite, line.as_bytes()).unwrap();
        prop_assert_eq!(d, Datapoint { metric: name, timestamp, value });
    }

    #[test]
    fn graphite_lines_of_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(d) = parse_line(LineFormat::Graphite, &bytes) {
            prop_assert!(valid(&d), "{d:?}");
        }
    }

    #[test]
    fn graphite_lines_of_hostile_fields(
        fields in proptest::collection::vec(field(), 0..5),
        separator in prop_oneof![Just(" "), Just("\t"), Just("  "), Just(" \r ")],
    ) {
        let line = fields.join(separator);
        if let Ok(d) = parse_line(LineFormat::Graphite, line.as_bytes()) {
            prop_assert!(valid(&d), "{line:?} -> {d:?}");
        }
    }

    #[test]
    fn json_lines_and_bodies_of_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(d) = parse_line(LineFormat::Json, &bytes) {
            prop_assert!(valid(&d), "{d:?}");
        }
        if let Ok(elements) = parse_json_array(&bytes) {
            for e in elements {
                if let Ok(d) = e.datapoint {
                    prop_assert!(valid(&d), "{d:?}");
                }
            }
        }
    }

    #[test]
    fn json_bodies_of_hostile_elements(
        elements in proptest::collection::vec(
            (field(), field(), field(), any::<bool>(), 0..4u8),
            0..20,
        ),
    ) {
        // Each element an object with the three fields (as JSON strings,
        // numbers or raw text), sometimes one more, sometimes one missing.
        let render = |s: &String, raw: bool| {
            if raw { s.clone() } else { serde_json::to_string(s).unwrap() }
        };
        let body: Vec<String> = elements
            .iter()
            .map(|(m, t, v, raw, shape)| match shape {
                0 => format!(r#"{{"metric":{},"timestamp":{},"value":{}}}"#, render(m, false), render(t, *raw), render(v, *raw)),
                1 => format!(r#"{{"metric":{},"timestamp":{}}}"#, render(m, false), render(t, *raw)),
                2 => format!(r#"{{"metric":{},"timestamp":{},"value":{},"x":1}}"#, render(m, false), render(t, true), render(v, true)),
                _ => format!(r#"[{},{},{}]"#, render(m, *raw), render(t, *raw), render(v, *raw)),
            })
            .collect();
        let body = format!("[{}]", body.join(","));
        if let Ok(parsed) = parse_json_array(body.as_bytes()) {
            prop_assert_eq!(parsed.len(), elements.len());
            for e in parsed {
                // Each element is kept as sent, to dead-letter it whole.
                prop_assert!(body.as_bytes().windows(e.raw.len()).any(|w| w == e.raw));
                if let Ok(d) = e.datapoint {
                    prop_assert!(valid(&d), "{body} -> {d:?}");
                }
            }
        }
    }
}
