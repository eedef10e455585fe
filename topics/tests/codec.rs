//! The wire codec against the schemas: every event round-trips, every
//! event's serde shape is what its `.avsc` describes, the hand-written
//! `Datapoint` path is byte-identical to apache-avro's, bad input is an
//! error (never a panic), and an older writer schema is still readable.

use std::fmt::Debug;
use std::sync::OnceLock;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema_compatibility::{Compatibility, SchemaCompatibility};
use apache_avro::types::Value;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use serde::{Deserialize, Serialize};
use topics::codec::{
    decode, decode_resolving, encode, encode_into, schema_id, split_header, CodecError, Event,
    SchemaFn,
};
use topics::*;
use uuid::Uuid;

// ---------------------------------------------------------------------------
// Realistic samples of every event, covering None/Some and empty/non-empty.

fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n)
}

fn series(n: usize) -> Vec<SeriesPoint> {
    (0..n)
        .map(|i| SeriesPoint {
            timestamp: 1_700_000_000 + 60 * i as i64,
            value: (i as f64 * 0.37).sin() * 100.0 + 250.0,
        })
        .collect()
}

fn datapoints() -> Vec<Datapoint> {
    vec![
        Datapoint {
            metric: "stats.web01.cpu.user".into(),
            timestamp: 1_700_000_000,
            value: 12.5,
        },
        Datapoint {
            metric: String::new(),
            timestamp: 0,
            value: 0.0,
        },
        Datapoint {
            metric: "carbon.agents.ünïcødé-host.métric".into(),
            timestamp: -1,
            value: -0.0,
        },
        Datapoint {
            metric: "m".repeat(200),
            timestamp: i64::MAX,
            value: f64::MAX,
        },
        Datapoint {
            metric: "x".into(),
            timestamp: i64::MIN,
            value: f64::MIN_POSITIVE,
        },
    ]
}

fn anomalies() -> Vec<AnomalyEvent> {
    vec![
        AnomalyEvent {
            id: ids::anomaly_id("stats.web01.cpu.user", 1_700_003_600, SourceApp::Analyzer),
            metric: "stats.web01.cpu.user".into(),
            timestamp: 1_700_003_600,
            value: 97.25,
            source: SourceApp::Analyzer,
            algorithms_run: vec![
                "histogram_bins".into(),
                "first_hour_average".into(),
                "stddev_from_average".into(),
                "grubbs".into(),
                "ks_test".into(),
            ],
            triggered_algorithms: vec!["histogram_bins".into(), "grubbs".into()],
            full_duration: 86_340,
            from_timestamp: 1_699_917_200,
            check_id: Some(uuid(2)),
            derivative: false,
            decided_at_ms: 1_700_003_601_234,
            count: 1,
            last_timestamp: 1_700_003_600,
            max_deviation: 0.0,
        },
        AnomalyEvent {
            id: uuid(3),
            metric: "counters.requests".into(),
            timestamp: 5,
            value: 1.0,
            source: SourceApp::Fingerprint,
            algorithms_run: vec![],
            triggered_algorithms: vec![],
            full_duration: 0,
            from_timestamp: 0,
            check_id: None,
            derivative: true,
            decided_at_ms: 0,
            count: 5,
            last_timestamp: 305,
            max_deviation: 3.75,
        },
        AnomalyEvent {
            id: uuid(4),
            metric: "seasonal.metric".into(),
            timestamp: 1,
            value: 2.0,
            source: SourceApp::Seasonal,
            algorithms_run: vec!["a".into()],
            triggered_algorithms: vec!["a".into()],
            full_duration: 1,
            from_timestamp: 1,
            check_id: None,
            derivative: false,
            decided_at_ms: 1,
            count: 1,
            last_timestamp: 1,
            max_deviation: 0.0,
        },
    ]
}

fn system_events() -> Vec<SystemEvent> {
    vec![
        SystemEvent {
            id: ids::system_event_id(SystemKind::Heartbeat, "analyze/host-1", 1_700_000_060),
            kind: SystemKind::Heartbeat,
            subject: "analyze".into(),
            service: "analyze".into(),
            instance: "host-1".into(),
            at: 1_700_000_060,
            since: None,
            ready: Some(true),
            alert: false,
            reason: "ok".into(),
            figures: vec![
                SystemFigure {
                    name: "lag_records".into(),
                    value: 12.0,
                },
                SystemFigure {
                    name: "lag_seconds".into(),
                    value: 0.5,
                },
            ],
            decided_at_ms: 1_700_000_060_123,
        },
        SystemEvent {
            id: ids::system_event_id(SystemKind::Stale, "stats.web01.cpu.user", 1_700_000_000),
            kind: SystemKind::Stale,
            subject: "stats.web01.cpu.user".into(),
            service: "analyze".into(),
            instance: String::new(),
            at: i64::MAX,
            since: Some(-1),
            ready: None,
            alert: true,
            reason: String::new(),
            figures: Vec::new(),
            decided_at_ms: 0,
        },
    ]
}

fn anomaly_ends() -> Vec<AnomalyEnded> {
    let anomaly = ids::anomaly_id("stats.web01.cpu.user", 1_700_003_600, SourceApp::Analyzer);
    vec![
        AnomalyEnded {
            id: ids::anomaly_ended_id(anomaly),
            anomaly_id: anomaly,
            metric: "stats.web01.cpu.user".into(),
            source: SourceApp::Analyzer,
            timestamp: 1_700_003_600,
            end_timestamp: 1_700_004_500,
            count: 7,
            decided_at_ms: 1_700_004_501_000,
        },
        AnomalyEnded {
            id: uuid(5),
            anomaly_id: uuid(6),
            metric: String::new(),
            source: SourceApp::Boundary,
            timestamp: -1,
            end_timestamp: i64::MAX,
            count: i32::MAX,
            decided_at_ms: 0,
        },
    ]
}

fn checks() -> Vec<CheckRequest> {
    vec![
        CheckRequest {
            id: uuid(10),
            anomaly_id: uuid(11),
            target: CheckTarget::Seasonal,
            metric: "stats.web01.cpu.user".into(),
            timestamp: 1_700_003_600,
            value: 97.25,
            triggered_algorithms: vec!["grubbs".into(), "ks_test".into()],
            second_order_resolution_hours: Some(168),
            series: series(1440),
            decided_at_ms: 1_700_003_601_234,
            full_duration: Some(604_800),
            echo_series: Some(series(1440)),
            alerts: vec![AlertRoute {
                alerter: "smtp".into(),
                rule: "stats.web*".into(),
                expiration_time: None,
            }],
            periodic: false,
            derivative: false,
        },
        CheckRequest {
            id: uuid(12),
            anomaly_id: uuid(13),
            target: CheckTarget::Fingerprint,
            metric: "m".into(),
            timestamp: 0,
            value: 0.0,
            triggered_algorithms: vec![],
            second_order_resolution_hours: None,
            series: vec![],
            decided_at_ms: 0,
            full_duration: None,
            echo_series: None,
            alerts: vec![],
            periodic: true,
            derivative: true,
        },
        CheckRequest {
            id: uuid(14),
            anomaly_id: uuid(15),
            target: CheckTarget::Fingerprint,
            metric: "m".into(),
            timestamp: 0,
            value: 0.0,
            triggered_algorithms: vec!["x".into()],
            second_order_resolution_hours: Some(u32::MAX),
            series: series(1),
            decided_at_ms: 0,
            full_duration: Some(i64::MIN),
            echo_series: Some(vec![]),
            alerts: vec![
                AlertRoute {
                    alerter: String::new(),
                    rule: String::new(),
                    expiration_time: None,
                },
                AlertRoute {
                    alerter: "webhook".into(),
                    rule: "m".into(),
                    expiration_time: None,
                },
            ],
            periodic: false,
            derivative: false,
        },
    ]
}

fn matches() -> Vec<MatchResult> {
    let methods = [
        MatchMethod::FeaturesProfile,
        MatchMethod::MinMax,
        MatchMethod::Layers,
        MatchMethod::Motif,
        MatchMethod::None,
    ];
    methods
        .iter()
        .enumerate()
        .map(|(i, &method)| MatchResult {
            id: uuid(20 + i as u128),
            check_id: uuid(30),
            anomaly_id: uuid(31),
            metric: "stats.web01.cpu.user".into(),
            timestamp: 1_700_003_600,
            matched: method != MatchMethod::None,
            method,
            profile_id: (method == MatchMethod::FeaturesProfile).then(|| uuid(32)),
            layer_id: (method == MatchMethod::Layers).then(|| uuid(33)),
            percent_different: (method == MatchMethod::FeaturesProfile).then_some(1.75),
            distance: (method == MatchMethod::Motif).then_some(0.0123),
            decided_at_ms: 1_700_003_602_000,
            echo: i % 2 == 1,
            profiles_checked: i as u32 * 7,
            features_sum: (i > 0).then_some(1234.5 * i as f64),
            common_features: (method == MatchMethod::FeaturesProfile).then_some(140),
            approx_close: method == MatchMethod::Layers,
            motif: (method == MatchMethod::Motif).then_some(MotifMatch {
                index: 512,
                size: 360,
                kind: MotifKind::AllInRange,
                area: 1.5,
                profile_area: 1.25,
                area_percent_diff: 20.0,
            }),
        })
        .collect()
}

fn labels() -> Vec<Label> {
    vec![
        Label {
            id: uuid(40),
            metric: "stats.web01.cpu.user".into(),
            anomaly_id: Some(uuid(41)),
            training_id: None,
            timestamp: 1_700_003_600,
            not_anomalous: true,
            learn: true,
            layers_json: Some(r#"{"d": {"op": ">", "value": 100}}"#.into()),
            operator: "ops@example.com".into(),
            labelled_at_ms: 1_700_010_000_000,
            check_id: Some(uuid(44)),
            full_duration: Some(86_400),
            series: Some(series(1440)),
            description: Some("nightly backup".into()),
            echo_series: None,
        },
        Label {
            id: uuid(42),
            metric: "m".into(),
            anomaly_id: None,
            training_id: Some(uuid(43)),
            timestamp: 0,
            not_anomalous: false,
            learn: false,
            layers_json: None,
            operator: String::new(),
            labelled_at_ms: 0,
            check_id: None,
            full_duration: None,
            series: None,
            description: None,
            echo_series: None,
        },
    ]
}

fn profiles() -> Vec<ProfileEvent> {
    vec![
        ProfileEvent {
            id: uuid(50),
            profile_id: uuid(51),
            action: ProfileAction::Learnt,
            metric: "stats.web01.cpu.user".into(),
            parent_id: Some(uuid(52)),
            generation: 3,
            full_duration: 604_800,
            features: (1..=170)
                .map(|id| FeatureValue {
                    id,
                    value: f64::from(id) * 1.5,
                })
                .collect(),
            features_sum: 21_802.5,
            series: series(100),
            layers_json: Some("{}".into()),
            label_id: Some(uuid(53)),
            at_ms: 1_700_010_000_500,
            validated: false,
            learn: true,
            learn_settings: Some(LearnSettings {
                full_duration: 2_592_000,
                valid_ts_older_than: 3661,
                max_generations: 16,
                max_percent_diff_from_origin: 100.0,
            }),
            description: Some("LEARNT".into()),
            operator: None,
            anomaly_timestamp: Some(1_700_003_600),
            check_id: Some(uuid(58)),
            disabled_with: None,
        },
        ProfileEvent {
            id: uuid(54),
            profile_id: uuid(51),
            action: ProfileAction::Disabled,
            metric: "stats.web01.cpu.user".into(),
            parent_id: None,
            generation: 0,
            full_duration: 86_400,
            features: vec![],
            features_sum: 0.0,
            series: vec![],
            layers_json: None,
            label_id: None,
            at_ms: 1,
            validated: true,
            learn: false,
            learn_settings: None,
            description: None,
            operator: Some("ops".into()),
            anomaly_timestamp: None,
            check_id: None,
            disabled_with: Some(uuid(59)),
        },
        ProfileEvent {
            id: uuid(55),
            profile_id: uuid(56),
            action: ProfileAction::Created,
            metric: "m".into(),
            parent_id: None,
            generation: u32::MAX,
            full_duration: 86_400,
            features: vec![FeatureValue {
                id: u32::MAX,
                value: 1.0,
            }],
            features_sum: 1.0,
            series: series(2),
            layers_json: None,
            label_id: None,
            at_ms: 1,
            validated: true,
            learn: false,
            learn_settings: None,
            description: None,
            operator: Some("ops".into()),
            anomaly_timestamp: None,
            check_id: None,
            disabled_with: Some(uuid(59)),
        },
        ProfileEvent {
            id: uuid(57),
            profile_id: uuid(56),
            action: ProfileAction::Validated,
            metric: "m".into(),
            parent_id: None,
            generation: 0,
            full_duration: 86_400,
            features: vec![],
            features_sum: 0.0,
            series: vec![],
            layers_json: None,
            label_id: None,
            at_ms: 2,
            validated: true,
            learn: false,
            learn_settings: None,
            description: None,
            operator: Some("ops".into()),
            anomaly_timestamp: None,
            check_id: None,
            disabled_with: Some(uuid(59)),
        },
    ]
}

fn alerts() -> Vec<AlertEvent> {
    vec![
        AlertEvent {
            id: uuid(60),
            anomaly_id: uuid(61),
            metric: "stats.web01.cpu.user".into(),
            timestamp: 1_700_003_600,
            value: 97.25,
            source: SourceApp::Seasonal,
            alerter: "smtp".into(),
            rule: "stats.*.cpu.*".into(),
            triggered_algorithms: vec!["grubbs".into()],
            decided_at_ms: 1_700_003_603_000,
            series: Some(series(1440)),
            full_duration: Some(86_340),
            expiration_time: Some(3600),
            boundary: None,
            fingerprinted: true,
            test: false,
        },
        AlertEvent {
            id: uuid(62),
            anomaly_id: uuid(63),
            metric: "m".into(),
            timestamp: 0,
            value: 0.0,
            source: SourceApp::Analyzer,
            alerter: "slack".into(),
            rule: String::new(),
            triggered_algorithms: vec![],
            decided_at_ms: 0,
            series: None,
            full_duration: None,
            expiration_time: None,
            boundary: None,
            fingerprinted: false,
            test: true,
        },
        AlertEvent {
            id: uuid(64),
            anomaly_id: uuid(65),
            metric: "disk.write_bytes".into(),
            timestamp: 1_700_000_000,
            value: 0.5,
            source: SourceApp::Boundary,
            alerter: "ops-hook".into(),
            rule: "disk.*".into(),
            triggered_algorithms: vec!["less_than".into()],
            decided_at_ms: 1_700_000_000_001,
            series: Some(vec![]),
            full_duration: Some(0),
            expiration_time: Some(900),
            boundary: Some(BoundaryTrigger {
                algorithm: "less_than".into(),
                trigger_value: 1.0,
                alert_threshold: 3,
            }),
            fingerprinted: false,
            test: false,
        },
    ]
}

fn deliveries() -> Vec<DeliveryEvent> {
    vec![
        DeliveryEvent {
            id: ids::delivery_id(uuid(60), 1),
            alert_id: uuid(60),
            anomaly_id: uuid(61),
            metric: "stats.web01.cpu.user".into(),
            alerter: "ops-mail".into(),
            kind: "smtp".into(),
            outcome: DeliveryOutcome::Failed,
            attempt: 1,
            detail: Some("550 5.1.1 mailbox unavailable".into()),
            at_ms: 1_700_003_604_000,
        },
        DeliveryEvent {
            id: uuid(66),
            alert_id: uuid(62),
            anomaly_id: uuid(63),
            metric: "m".into(),
            alerter: String::new(),
            kind: "webhook".into(),
            outcome: DeliveryOutcome::Muted,
            attempt: 0,
            detail: None,
            at_ms: 0,
        },
    ]
}

fn mutes() -> Vec<MuteEvent> {
    vec![
        MuteEvent {
            id: uuid(67),
            action: MuteAction::Mute,
            pattern: "stats.web01.*".into(),
            until_ms: 1_700_007_200_000,
            reason: Some("maintenance".into()),
            operator: Some("ops".into()),
            at_ms: 1_700_000_000_000,
        },
        MuteEvent {
            id: uuid(67),
            action: MuteAction::Unmute,
            pattern: String::new(),
            until_ms: 0,
            reason: None,
            operator: None,
            at_ms: -1,
        },
    ]
}

fn seasonal_results() -> Vec<SeasonalResult> {
    vec![
        SeasonalResult {
            id: uuid(70),
            check_id: uuid(71),
            anomaly_id: uuid(72),
            metric: "office.energy".into(),
            timestamp: 1_700_000_000,
            value: 12.5,
            hours: 168,
            periodic: false,
            outcome: SeasonalOutcome::Anomalous,
            reason: "consensus".into(),
            algorithms_run: vec!["grubbs".into(), "ks_test".into()],
            triggered_algorithms: vec!["grubbs".into()],
            resolution: 600,
            full_duration: 604_800,
            series: series(3),
            seasonal_anomaly_id: Some(uuid(73)),
            fingerprint_check_id: Some(uuid(74)),
            decided_at_ms: 1_700_000_000_123,
        },
        SeasonalResult {
            id: uuid(75),
            check_id: uuid(76),
            anomaly_id: uuid(77),
            metric: String::new(),
            timestamp: i64::MIN,
            value: -0.0,
            hours: u32::MAX,
            periodic: true,
            outcome: SeasonalOutcome::Skipped,
            reason: "stale".into(),
            algorithms_run: vec![],
            triggered_algorithms: vec![],
            resolution: 0,
            full_duration: 0,
            series: vec![],
            seasonal_anomaly_id: None,
            fingerprint_check_id: None,
            decided_at_ms: 0,
        },
    ]
}

fn dead_letters() -> Vec<DeadLetter> {
    vec![
        DeadLetter {
            id: uuid(70),
            source_topic: "skyline.datapoints".into(),
            partition: Some(3),
            offset: Some(1_234_567),
            key: Some(b"stats.web01.cpu.user".to_vec()),
            payload: vec![0xff, 0x00, 0x00, 0x00, 0x01, 0xde, 0xad],
            error: "bad magic byte 0xff".into(),
            consumer: "window-folder".into(),
            at_ms: 1_700_000_000_000,
            payload_length: Some(7),
            payload_sha256: Some(
                "61e3c8ef1d1fc4b7f3f3d7e6ee5b4ed8b0d1e5bd0b0e0c9c6a3d2f3b1c9e8a7f".into(),
            ),
            key_length: Some(20),
        },
        DeadLetter {
            id: uuid(71),
            source_topic: "skyline.labels".into(),
            partition: None,
            offset: None,
            key: None,
            payload: vec![],
            error: "empty message".into(),
            consumer: "learn".into(),
            at_ms: 0,
            payload_length: None,
            payload_sha256: None,
            key_length: None,
        },
        DeadLetter {
            id: uuid(72),
            source_topic: "t".into(),
            partition: Some(i32::MIN),
            offset: Some(-1),
            key: Some(vec![]),
            payload: (0..=255).collect(),
            error: String::new(),
            consumer: String::new(),
            at_ms: -1,
            payload_length: Some(i64::MAX),
            payload_sha256: Some(String::new()),
            key_length: Some(0),
        },
    ]
}

/// Every sample of every type, encoded, with its type's name: the fuzz and
/// truncation tests mutate these.
fn all_encoded() -> Vec<(&'static str, Vec<u8>)> {
    fn enc<E: Event>(items: Vec<E>) -> Vec<(&'static str, Vec<u8>)> {
        items
            .iter()
            .map(|e| (E::NAME, encode(e).unwrap()))
            .collect()
    }
    let mut all = enc(datapoints());
    all.extend(enc(anomalies()));
    all.extend(enc(checks()));
    all.extend(enc(matches()));
    all.extend(enc(labels()));
    all.extend(enc(profiles()));
    all.extend(enc(alerts()));
    all.extend(enc(dead_letters()));
    all.extend(enc(deliveries()));
    all.extend(enc(mutes()));
    all.extend(enc(seasonal_results()));
    all.extend(enc(anomaly_ends()));
    all.extend(enc(system_events()));
    all
}

/// Try to decode `bytes` as every event type; returns how many succeeded.
/// The point is that none panics.
fn decode_as_everything(bytes: &[u8]) -> usize {
    [
        decode::<Datapoint>(bytes).is_ok(),
        decode::<AnomalyEvent>(bytes).is_ok(),
        decode::<CheckRequest>(bytes).is_ok(),
        decode::<MatchResult>(bytes).is_ok(),
        decode::<Label>(bytes).is_ok(),
        decode::<ProfileEvent>(bytes).is_ok(),
        decode::<AlertEvent>(bytes).is_ok(),
        decode::<DeadLetter>(bytes).is_ok(),
        decode::<DeliveryEvent>(bytes).is_ok(),
        decode::<MuteEvent>(bytes).is_ok(),
        decode::<SeasonalResult>(bytes).is_ok(),
        decode::<AnomalyEnded>(bytes).is_ok(),
        decode::<SystemEvent>(bytes).is_ok(),
    ]
    .iter()
    .filter(|ok| **ok)
    .count()
}

/// Small deterministic PRNG (xorshift64*), so fuzz failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

// ---------------------------------------------------------------------------
// Round trips

/// Encode, check the header, decode, and re-encode: the second encoding must
/// equal the first, which also proves every double survived bit for bit.
fn roundtrip<E: Event>(event: &E) -> E {
    let bytes = encode(event).unwrap();
    assert_eq!(bytes[0], 0, "magic byte");
    assert_eq!(
        i32::from_be_bytes(bytes[1..5].try_into().unwrap()),
        E::SCHEMA_ID
    );
    assert_eq!(schema_id(&bytes).unwrap(), E::SCHEMA_ID);
    let back: E = decode(&bytes).unwrap();
    assert_eq!(
        encode(&back).unwrap(),
        bytes,
        "{} re-encodes differently",
        E::NAME
    );
    back
}

fn roundtrip_all<E: Event + PartialEq + Debug>(items: Vec<E>) {
    for item in &items {
        assert_eq!(&roundtrip(item), item);
    }
}

#[test]
fn every_event_round_trips() {
    roundtrip_all(datapoints());
    roundtrip_all(anomalies());
    roundtrip_all(checks());
    roundtrip_all(matches());
    roundtrip_all(labels());
    roundtrip_all(profiles());
    roundtrip_all(alerts());
    roundtrip_all(seasonal_results());
    roundtrip_all(dead_letters());
    roundtrip_all(deliveries());
    roundtrip_all(mutes());
    roundtrip_all(anomaly_ends());
    roundtrip_all(system_events());
}

#[test]
fn non_finite_doubles_round_trip_bit_exactly() {
    let odd_nan = f64::from_bits(0x7ff8_dead_beef_0001);
    let negative_nan = f64::from_bits(0xfff0_0000_0000_0001); // signalling, sign set
    let specials = [
        f64::NAN,
        odd_nan,
        negative_nan,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        f64::from_bits(1), // smallest subnormal
    ];
    let same = |a: f64, b: f64| assert_eq!(a.to_bits(), b.to_bits(), "{a} vs {b}");

    for &v in &specials {
        let dp = roundtrip(&Datapoint {
            metric: "m".into(),
            timestamp: 1,
            value: v,
        });
        same(dp.value, v);

        let mut anomaly = anomalies().remove(0);
        anomaly.value = v;
        same(roundtrip(&anomaly).value, v);

        let mut check = checks().remove(0);
        check.value = v;
        check.series[7].value = v;
        let back = roundtrip(&check);
        same(back.value, v);
        same(back.series[7].value, v);

        let mut m = matches().remove(0);
        m.percent_different = Some(v);
        m.distance = Some(v);
        let back = roundtrip(&m);
        same(back.percent_different.unwrap(), v);
        same(back.distance.unwrap(), v);

        let mut p = profiles().remove(0);
        p.features_sum = v;
        p.features[0].value = v;
        p.series[0].value = v;
        let back = roundtrip(&p);
        same(back.features_sum, v);
        same(back.features[0].value, v);
        same(back.series[0].value, v);

        let mut a = alerts().remove(0);
        a.value = v;
        same(roundtrip(&a).value, v);
    }
}

#[test]
fn encode_into_appends_and_reuses_a_buffer() {
    let dps = datapoints();
    let mut buf = b"prefix".to_vec();
    encode_into(&dps[0], &mut buf).unwrap();
    assert_eq!(&buf[..6], b"prefix");
    assert_eq!(buf[6..], encode(&dps[0]).unwrap()[..]);
    buf.clear();
    encode_into(&anomalies()[0], &mut buf).unwrap();
    assert_eq!(buf, encode(&anomalies()[0]).unwrap());
}

// ---------------------------------------------------------------------------
// Schemas

/// The raw `.avsc` text of every type, by file, with the type's id and name.
fn schema_files() -> Vec<(
    &'static str,
    &'static str,
    i32,
    &'static str,
    &'static Schema,
)> {
    vec![
        (
            "datapoint.avsc",
            include_str!("../schemas/datapoint.avsc"),
            Datapoint::SCHEMA_ID,
            Datapoint::NAME,
            Datapoint::schema(),
        ),
        (
            "anomaly.avsc",
            include_str!("../schemas/anomaly.avsc"),
            AnomalyEvent::SCHEMA_ID,
            AnomalyEvent::NAME,
            AnomalyEvent::schema(),
        ),
        (
            "check.avsc",
            include_str!("../schemas/check.avsc"),
            CheckRequest::SCHEMA_ID,
            CheckRequest::NAME,
            CheckRequest::schema(),
        ),
        (
            "match.avsc",
            include_str!("../schemas/match.avsc"),
            MatchResult::SCHEMA_ID,
            MatchResult::NAME,
            MatchResult::schema(),
        ),
        (
            "label.avsc",
            include_str!("../schemas/label.avsc"),
            Label::SCHEMA_ID,
            Label::NAME,
            Label::schema(),
        ),
        (
            "profile.avsc",
            include_str!("../schemas/profile.avsc"),
            ProfileEvent::SCHEMA_ID,
            ProfileEvent::NAME,
            ProfileEvent::schema(),
        ),
        (
            "alert.avsc",
            include_str!("../schemas/alert.avsc"),
            AlertEvent::SCHEMA_ID,
            AlertEvent::NAME,
            AlertEvent::schema(),
        ),
        (
            "deadletter.avsc",
            include_str!("../schemas/deadletter.avsc"),
            DeadLetter::SCHEMA_ID,
            DeadLetter::NAME,
            DeadLetter::schema(),
        ),
        (
            "delivery.avsc",
            include_str!("../schemas/delivery.avsc"),
            DeliveryEvent::SCHEMA_ID,
            DeliveryEvent::NAME,
            DeliveryEvent::schema(),
        ),
        (
            "mute.avsc",
            include_str!("../schemas/mute.avsc"),
            MuteEvent::SCHEMA_ID,
            MuteEvent::NAME,
            MuteEvent::schema(),
        ),
        (
            "seasonal.avsc",
            include_str!("../schemas/seasonal.avsc"),
            SeasonalResult::SCHEMA_ID,
            SeasonalResult::NAME,
            SeasonalResult::schema(),
        ),
        (
            "anomaly_ended.avsc",
            include_str!("../schemas/anomaly_ended.avsc"),
            AnomalyEnded::SCHEMA_ID,
            AnomalyEnded::NAME,
            AnomalyEnded::schema(),
        ),
        (
            "system.avsc",
            include_str!("../schemas/system.avsc"),
            SystemEvent::SCHEMA_ID,
            SystemEvent::NAME,
            SystemEvent::schema(),
        ),
    ]
}

#[test]
fn schema_ids_are_the_documented_ones() {
    let ids: Vec<(i32, &str)> = schema_files().iter().map(|f| (f.2, f.3)).collect();
    assert_eq!(
        ids,
        [
            (1, "Datapoint"),
            (21, "AnomalyEvent"),
            (18, "CheckRequest"),
            (10, "MatchResult"),
            (19, "Label"),
            (12, "ProfileEvent"),
            (15, "AlertEvent"),
            (13, "DeadLetter"),
            (16, "DeliveryEvent"),
            (17, "MuteEvent"),
            (20, "SeasonalResult"),
            (22, "AnomalyEnded"),
            (23, "SystemEvent"),
        ]
    );
    // The first versions stay readable under their own ids.
    let earlier = |list: &[(i32, SchemaFn)]| list.iter().map(|e| e.0).collect::<Vec<_>>();
    assert_eq!(earlier(CheckRequest::EARLIER_SCHEMAS), [3, 9]);
    assert_eq!(earlier(MatchResult::EARLIER_SCHEMAS), [4]);
    assert_eq!(earlier(Label::EARLIER_SCHEMAS), [5, 11]);
    assert_eq!(earlier(ProfileEvent::EARLIER_SCHEMAS), [6]);
    assert_eq!(earlier(DeadLetter::EARLIER_SCHEMAS), [8]);
    assert_eq!(earlier(AnomalyEvent::EARLIER_SCHEMAS), [2, 14]);
    assert_eq!(earlier(AlertEvent::EARLIER_SCHEMAS), [7]);
}

#[test]
fn schemas_are_skyline_records_named_after_their_type() {
    for (file, text, _, name, schema) in schema_files() {
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(json["type"], "record", "{file}");
        assert_eq!(json["name"], name, "{file}");
        assert_eq!(json["namespace"], "skyline", "{file}");
        match schema {
            Schema::Record(r) => assert_eq!(r.name.fullname(None), format!("skyline.{name}")),
            other => panic!("{file} is not a record: {other:?}"),
        }
    }
}

/// Walk a schema's JSON: every named type and every field has a non-empty
/// doc, and every union is `["null", T]` with a null default.
fn check_docs_and_unions(file: &str, json: &serde_json::Value, path: &str) {
    let Some(obj) = json.as_object() else {
        if let Some(items) = json.as_array() {
            panic!("{file}: bare union at {path}: {items:?}");
        }
        return;
    };
    if matches!(
        obj.get("type").and_then(|t| t.as_str()),
        Some("record" | "enum")
    ) {
        let doc = obj.get("doc").and_then(|d| d.as_str()).unwrap_or("");
        assert!(!doc.trim().is_empty(), "{file}: {path} has no doc");
    }
    if let Some(fields) = obj.get("fields").and_then(|f| f.as_array()) {
        for field in fields {
            let name = field["name"].as_str().unwrap();
            let here = format!("{path}.{name}");
            let doc = field.get("doc").and_then(|d| d.as_str()).unwrap_or("");
            assert!(!doc.trim().is_empty(), "{file}: field {here} has no doc");
            match &field["type"] {
                serde_json::Value::Array(branches) => {
                    assert_eq!(branches.len(), 2, "{file}: {here}");
                    assert_eq!(branches[0], "null", "{file}: {here} must be [\"null\", T]");
                    assert_eq!(
                        field.get("default"),
                        Some(&serde_json::Value::Null),
                        "{file}: optional {here} needs \"default\": null"
                    );
                    check_docs_and_unions(file, &branches[1], &here);
                }
                other => check_docs_and_unions(file, other, &here),
            }
        }
    }
    if let Some(items) = obj.get("items") {
        check_docs_and_unions(file, items, &format!("{path}[]"));
    }
}

#[test]
fn every_field_is_documented_and_every_option_defaults_to_null() {
    for (file, text, ..) in schema_files() {
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        check_docs_and_unions(file, &json, json["name"].as_str().unwrap());
    }
}

/// The JSON definition of the named type `name` inside `json`.
fn find_named<'a>(json: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    match json {
        serde_json::Value::Object(obj) => {
            let defines = matches!(
                obj.get("type").and_then(|t| t.as_str()),
                Some("record" | "enum")
            );
            if defines && obj.get("name").and_then(|n| n.as_str()) == Some(name) {
                return Some(json);
            }
            obj.values().find_map(|v| find_named(v, name))
        }
        serde_json::Value::Array(items) => items.iter().find_map(|v| find_named(v, name)),
        _ => None,
    }
}

#[test]
fn types_shared_between_files_are_defined_identically() {
    // Each .avsc stands alone (a registry needs no references), so a type
    // used by two events is written out in both: they must not drift.
    let files: Vec<(&str, serde_json::Value)> = schema_files()
        .iter()
        .map(|f| (f.0, serde_json::from_str(f.1).unwrap()))
        .collect();
    let get = |file: &str, name: &str| {
        let json = &files.iter().find(|f| f.0 == file).unwrap().1;
        find_named(json, name)
            .unwrap_or_else(|| panic!("{name} not in {file}"))
            .clone()
    };
    assert_eq!(
        get("check.avsc", "SeriesPoint"),
        get("profile.avsc", "SeriesPoint")
    );
    assert_eq!(
        get("anomaly.avsc", "SourceApp"),
        get("alert.avsc", "SourceApp")
    );
    assert_eq!(
        get("check.avsc", "SeriesPoint"),
        get("alert.avsc", "SeriesPoint")
    );
    assert_eq!(
        get("check.avsc", "SeriesPoint"),
        get("seasonal.avsc", "SeriesPoint")
    );
    assert_eq!(
        get("anomaly.avsc", "SourceApp"),
        get("anomaly_ended.avsc", "SourceApp")
    );
}

/// The serde names of `values`, in order.
fn serde_names<T: Serialize>(values: &[T]) -> Vec<String> {
    values
        .iter()
        .map(|v| {
            serde_json::to_value(v)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn enum_symbols_are_the_serde_names_in_declaration_order() {
    let symbols = |file: &str, name: &str| -> Vec<String> {
        let text = schema_files().into_iter().find(|f| f.0 == file).unwrap().1;
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        serde_json::from_value(find_named(&json, name).unwrap()["symbols"].clone()).unwrap()
    };
    assert_eq!(
        symbols("anomaly.avsc", "SourceApp"),
        serde_names(&[
            SourceApp::Analyzer,
            SourceApp::Seasonal,
            SourceApp::Fingerprint,
            SourceApp::Boundary,
        ])
    );
    assert_eq!(
        symbols("delivery.avsc", "DeliveryOutcome"),
        serde_names(&[
            DeliveryOutcome::Delivered,
            DeliveryOutcome::Failed,
            DeliveryOutcome::GaveUp,
            DeliveryOutcome::Muted,
        ])
    );
    assert_eq!(
        symbols("mute.avsc", "MuteAction"),
        serde_names(&[MuteAction::Mute, MuteAction::Unmute])
    );
    assert_eq!(
        symbols("seasonal.avsc", "SeasonalOutcome"),
        serde_names(&[
            SeasonalOutcome::Anomalous,
            SeasonalOutcome::Cleared,
            SeasonalOutcome::Skipped,
        ])
    );
    assert_eq!(
        symbols("check.avsc", "CheckTarget"),
        serde_names(&[CheckTarget::Seasonal, CheckTarget::Fingerprint])
    );
    assert_eq!(
        symbols("match.avsc", "MatchMethod"),
        serde_names(&[
            MatchMethod::FeaturesProfile,
            MatchMethod::MinMax,
            MatchMethod::Layers,
            MatchMethod::Motif,
            MatchMethod::None,
        ])
    );
    assert_eq!(
        symbols("profile.avsc", "ProfileAction"),
        serde_names(&[
            ProfileAction::Created,
            ProfileAction::Learnt,
            ProfileAction::Validated,
            ProfileAction::Disabled,
        ])
    );
}

/// Render a decoded Avro value as the JSON serde_json would write for the
/// Rust value: records as objects in field order, unions as their branch,
/// enums as their symbol, uuids as strings, bytes as arrays of numbers.
fn avro_as_json(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Boolean(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Long(l) => l.to_string(),
        Value::Double(d) => serde_json::to_string(d).unwrap(),
        Value::String(s) => serde_json::to_string(s).unwrap(),
        Value::Uuid(u) => serde_json::to_string(&u.to_string()).unwrap(),
        Value::Bytes(b) => serde_json::to_string(b).unwrap(),
        Value::Enum(_, symbol) => serde_json::to_string(symbol).unwrap(),
        Value::Union(_, inner) => avro_as_json(inner),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(avro_as_json).collect();
            format!("[{}]", items.join(","))
        }
        Value::Record(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}:{}", serde_json::to_string(k).unwrap(), avro_as_json(v)))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        other => panic!("no Avro value of this kind in skyline's schemas: {other:?}"),
    }
}

/// The serde shape of `event` is its schema: read the encoded body back with
/// apache-avro's plain (non-serde) reader, as a non-Rust consumer would, check
/// it validates, and compare it field by field, in order, with serde_json's
/// rendering of the Rust value.
fn shape_matches_schema<E: Event>(items: Vec<E>) {
    let reader = GenericDatumReader::builder(E::schema()).build().unwrap();
    for item in &items {
        let bytes = encode(item).unwrap();
        let mut body = &bytes[5..];
        let value = reader.read_value(&mut body).unwrap();
        assert!(body.is_empty(), "{}: reader left bytes", E::NAME);
        assert!(
            value.validate(E::schema()),
            "{}: value does not validate",
            E::NAME
        );
        assert_eq!(
            avro_as_json(&value),
            serde_json::to_string(item).unwrap(),
            "{}",
            E::NAME
        );
    }
}

#[test]
fn every_serde_shape_matches_its_schema() {
    shape_matches_schema(datapoints());
    shape_matches_schema(anomalies());
    shape_matches_schema(checks());
    shape_matches_schema(matches());
    shape_matches_schema(labels());
    shape_matches_schema(profiles());
    shape_matches_schema(alerts());
    shape_matches_schema(dead_letters());
    shape_matches_schema(deliveries());
    shape_matches_schema(mutes());
    shape_matches_schema(anomaly_ends());
    shape_matches_schema(system_events());
}

// ---------------------------------------------------------------------------
// Datapoint's hand-written path against apache-avro's

fn avro_datapoint_body(dp: &Datapoint) -> Vec<u8> {
    GenericDatumWriter::builder(Datapoint::schema())
        .build()
        .unwrap()
        .write_ser_to_vec(dp)
        .unwrap()
}

/// apache-avro's serde reader on a Datapoint body, with the same
/// whole-body rule as the codec.
fn avro_datapoint_decode(body: &[u8]) -> Option<Datapoint> {
    let reader = GenericDatumReader::builder(Datapoint::schema())
        .build()
        .unwrap();
    let mut rest = body;
    let dp = reader.read_deser::<Datapoint>(&mut rest).ok()?;
    rest.is_empty().then_some(dp)
}

fn with_header(id: i32, body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0];
    bytes.extend_from_slice(&id.to_be_bytes());
    bytes.extend_from_slice(body);
    bytes
}

fn same_datapoint(a: &Datapoint, b: &Datapoint) -> bool {
    a.metric == b.metric && a.timestamp == b.timestamp && a.value.to_bits() == b.value.to_bits()
}

#[test]
fn hand_written_datapoint_encoding_is_apache_avros_byte_for_byte() {
    let mut cases = datapoints();
    // Lengths and numbers at every varint boundary.
    for len in [0usize, 1, 63, 64, 65, 127, 128, 8191, 8192, 100_000] {
        for ts in [
            0i64,
            -1,
            63,
            -64,
            64,
            -65,
            8191,
            8192,
            1_700_000_000,
            -1_700_000_000,
            i64::MAX,
            i64::MIN,
            i64::MAX / 3,
        ] {
            cases.push(Datapoint {
                // `len` bytes: two per "é", one "a" when odd.
                metric: format!("{}{}", "é".repeat(len / 2), "a".repeat(len % 2)),
                timestamp: ts,
                value: ts as f64 / 7.0,
            });
        }
    }
    for v in [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        f64::from_bits(0x7ff4_0000_0000_0001),
    ] {
        cases.push(Datapoint {
            metric: "m".into(),
            timestamp: 1,
            value: v,
        });
    }
    for dp in &cases {
        let ours = encode(dp).unwrap();
        let theirs = avro_datapoint_body(dp);
        assert_eq!(ours[5..], theirs[..], "{dp:?}");
        let back = avro_datapoint_decode(&ours[5..]).unwrap();
        assert!(same_datapoint(&back, dp));
        let back: Datapoint = decode(&with_header(1, &theirs)).unwrap();
        assert!(same_datapoint(&back, dp));
    }
}

#[test]
fn hand_written_datapoint_decoder_agrees_with_apache_avro_on_garbage() {
    let mut rng = Rng(0x5eed_0001);
    let valid: Vec<Vec<u8>> = datapoints().iter().map(avro_datapoint_body).collect();
    let mut agreed_ok = 0;
    for round in 0..50_000 {
        let body = match round % 3 {
            // Random bytes, mostly short.
            0 => {
                let n = rng.below(40);
                rng.bytes(n)
            }
            // A valid body with a few bytes changed.
            1 => {
                let mut b = valid[rng.below(valid.len())].clone();
                for _ in 0..1 + rng.below(3) {
                    if !b.is_empty() {
                        let i = rng.below(b.len());
                        b[i] = rng.next() as u8;
                    }
                }
                b
            }
            // A valid body cut or extended.
            _ => {
                let mut b = valid[rng.below(valid.len())].clone();
                if rng.below(2) == 0 {
                    b.truncate(rng.below(b.len() + 1));
                } else {
                    let n = 1 + rng.below(4);
                    b.extend(rng.bytes(n));
                }
                b
            }
        };
        let ours = decode::<Datapoint>(&with_header(1, &body)).ok();
        let theirs = avro_datapoint_decode(&body);
        match (&ours, &theirs) {
            (Some(a), Some(b)) => {
                assert!(same_datapoint(a, b), "{body:02x?}: {a:?} vs {b:?}");
                agreed_ok += 1;
            }
            (None, None) => {}
            _ => panic!("decoders disagree on {body:02x?}: ours {ours:?}, apache-avro {theirs:?}"),
        }
    }
    assert!(
        agreed_ok > 100,
        "the fuzz should also produce valid bodies, got {agreed_ok}"
    );
}

// ---------------------------------------------------------------------------
// Errors, never panics

#[test]
fn header_errors() {
    let dp = encode(&datapoints()[0]).unwrap();

    let err = decode::<Datapoint>(&[]).unwrap_err();
    assert!(matches!(err, CodecError::Empty), "{err}");
    assert!(err.to_string().contains("empty"));

    for cut in 1..5 {
        let err = decode::<Datapoint>(&dp[..cut]).unwrap_err();
        assert!(
            matches!(err, CodecError::TooShort { len } if len == cut),
            "{err}"
        );
    }

    let mut bad = dp.clone();
    bad[0] = 0x7b; // '{', e.g. someone producing JSON
    let err = decode::<Datapoint>(&bad).unwrap_err();
    assert!(matches!(err, CodecError::BadMagic { found: 0x7b }), "{err}");
    assert!(err.to_string().contains("magic"), "{err}");
}

#[test]
fn another_types_message_is_the_wrong_schema() {
    let dp = encode(&datapoints()[0]).unwrap();
    let err = decode::<AnomalyEvent>(&dp).unwrap_err();
    assert!(
        matches!(
            err,
            CodecError::WrongSchema {
                found: 1,
                expected: 21,
                name: "AnomalyEvent"
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("wrong schema"), "{text}");
    assert!(
        text.contains("schema id 1") && text.contains("expected 21"),
        "{text}"
    );

    // An id nobody knows (a newer producer, or another system's registry).
    let unknown = with_header(4242, &dp[5..]);
    let err = decode::<Datapoint>(&unknown).unwrap_err();
    assert!(
        matches!(
            err,
            CodecError::WrongSchema {
                found: 4242,
                expected: 1,
                ..
            }
        ),
        "{err:?}"
    );

    // Every pair of distinct types refuses each other by id.
    for (name, bytes) in all_encoded() {
        assert_eq!(
            decode_as_everything(&bytes),
            1,
            "{name} decodes as another type"
        );
    }
}

#[test]
fn trailing_bytes_are_refused() {
    for (name, mut bytes) in all_encoded() {
        bytes.push(0);
        let n = decode_as_everything(&bytes);
        assert_eq!(n, 0, "{name} with a trailing byte decoded");
    }
    let mut dp = encode(&datapoints()[0]).unwrap();
    dp.extend_from_slice(&[1, 2, 3]);
    let err = decode::<Datapoint>(&dp).unwrap_err();
    assert!(
        matches!(err, CodecError::TrailingBytes { count: 3, .. }),
        "{err:?}"
    );
    let mut an = encode(&anomalies()[0]).unwrap();
    an.push(9);
    let err = decode::<AnomalyEvent>(&an).unwrap_err();
    assert!(
        matches!(err, CodecError::TrailingBytes { count: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn every_truncation_of_every_message_is_an_error() {
    for (name, bytes) in all_encoded() {
        // Every cut near either end, where the header and the last fields
        // are; every 61st in between (the long series of a check or profile
        // are thousands of identical points).
        let len = bytes.len();
        let cuts = (0..len).filter(|&c| c < 300 || c + 300 > len || c % 61 == 0);
        for cut in cuts {
            assert_eq!(
                decode_as_everything(&bytes[..cut]),
                0,
                "{name} cut to {cut} of {} bytes decoded",
                bytes.len()
            );
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let encoded = all_encoded();
    for round in 0..30_000 {
        let bytes = match round % 4 {
            // Anything at all.
            0 => {
                let n = rng.below(64);
                rng.bytes(n)
            }
            // A valid header for a random type, then garbage.
            1 => {
                let n = rng.below(200);
                with_header(1 + rng.below(8) as i32, &rng.bytes(n))
            }
            // A real message with bytes flipped.
            2 => {
                let mut b = encoded[rng.below(encoded.len())].1.clone();
                for _ in 0..1 + rng.below(4) {
                    let i = 5 + rng.below(b.len() - 5);
                    b[i] ^= 1 << rng.below(8);
                }
                b
            }
            // A real message with a random tail spliced in.
            _ => {
                let mut b = encoded[rng.below(encoded.len())].1.clone();
                let at = 5 + rng.below(b.len() - 4);
                b.truncate(at);
                let n = rng.below(32);
                b.extend(rng.bytes(n));
                b
            }
        };
        decode_as_everything(&bytes);
    }
}

#[test]
fn huge_lengths_are_refused_without_allocating_them() {
    // A string length of i64::MAX / 2 and of 2^40: apache-avro and the
    // hand-written decoder must both refuse rather than try.
    let mut long_len = vec![0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    long_len.extend_from_slice(b"abc");
    let mut tera = vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x40];
    tera.extend_from_slice(b"abc");
    for body in [long_len, tera] {
        for id in 1..=8 {
            assert_eq!(decode_as_everything(&with_header(id, &body)), 0);
        }
    }
    // An array claiming 2^62 items, then nothing: the second anomaly sample
    // has empty `algorithms_run`, whose count byte sits after id, metric,
    // timestamp, value and source.
    let an = &anomalies()[1];
    let mut bytes = encode(an).unwrap();
    let at = 5 + (1 + 36) + (1 + an.metric.len()) + 1 + 8 + 1;
    // Empty arrays, zero full_duration and from_timestamp, no check id,
    // derivative true, decided_at_ms 0 (then the version 3 fields).
    assert_eq!(bytes[at..at + 7], [0, 0, 0, 0, 0, 1, 0]);
    bytes.truncate(at);
    bytes.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]);
    let err = decode::<AnomalyEvent>(&bytes).unwrap_err();
    assert!(matches!(err, CodecError::Body { .. }), "{err:?}");
}

#[test]
fn split_header_exposes_id_and_body() {
    let bytes = encode(&labels()[0]).unwrap();
    let (id, body) = split_header(&bytes).unwrap();
    assert_eq!(id, 19);
    assert_eq!(body, &bytes[5..]);
}

/// Re-writes a current message as its first version would have written it
/// (the v2 body resolved to the v1 schema, then written with it), under the
/// v1 id.
fn as_version_one<E: Event>(event: &E) -> Vec<u8> {
    as_earlier_version(event, 0)
}

/// Re-writes a current message as its `index`-th earlier schema (0: the
/// first version) would have written it, under that schema's id.
fn as_earlier_version<E: Event>(event: &E, index: usize) -> Vec<u8> {
    let (old_id, old_schema) = E::EARLIER_SCHEMAS[index];
    let bytes = encode(event).unwrap();
    let mut body = &bytes[5..];
    let value = GenericDatumReader::builder(E::schema())
        .reader_schema(old_schema())
        .build()
        .unwrap()
        .read_value(&mut body)
        .unwrap();
    let mut out = vec![0];
    out.extend_from_slice(&old_id.to_be_bytes());
    GenericDatumWriter::builder(old_schema())
        .build()
        .unwrap()
        .write_value(&mut out, value)
        .unwrap();
    out
}

#[test]
fn second_version_checks_and_labels_decode_with_defaults_for_the_new_fields() {
    for (old, new) in [
        (CheckRequest::EARLIER_SCHEMAS[1], CheckRequest::schema()),
        (Label::EARLIER_SCHEMAS[1], Label::schema()),
    ] {
        assert_eq!(old.0 % 2, 1, "ids 9 and 11");
        let compat = SchemaCompatibility::can_read(old.1(), new).unwrap();
        assert_eq!(compat, Compatibility::Full);
    }
    let mut check = checks().remove(0);
    check.periodic = true;
    check.derivative = true;
    let bytes = as_earlier_version(&check, 1);
    assert_eq!(schema_id(&bytes).unwrap(), 9);
    let old: CheckRequest = decode(&bytes).unwrap();
    assert_eq!((old.periodic, old.derivative), (false, false));
    assert_eq!(
        (&old.series, old.full_duration),
        (&check.series, check.full_duration)
    );

    let mut label = labels().remove(0);
    label.echo_series = Some(series(4));
    let bytes = as_earlier_version(&label, 1);
    assert_eq!(schema_id(&bytes).unwrap(), 11);
    let old: Label = decode(&bytes).unwrap();
    assert_eq!(old.echo_series, None);
    assert_eq!(old.series, label.series);
}

#[test]
fn second_version_anomalies_decode_as_one_point_anomalies() {
    let (old_id, old_schema) = AnomalyEvent::EARLIER_SCHEMAS[1];
    assert_eq!(old_id, 14);
    let compat = SchemaCompatibility::can_read(old_schema(), AnomalyEvent::schema()).unwrap();
    assert_eq!(compat, Compatibility::Full);
    // An extended anomaly written by version 2 loses what version 2 cannot
    // say; the reader makes it the one-point anomaly it was then.
    let anomaly = anomalies().remove(1);
    assert_eq!(anomaly.count, 5);
    let bytes = as_earlier_version(&anomaly, 1);
    assert_eq!(schema_id(&bytes).unwrap(), 14);
    let old: AnomalyEvent = decode(&bytes).unwrap();
    assert_eq!(
        (old.count, old.last_timestamp, old.max_deviation),
        (1, anomaly.timestamp, 0.0)
    );
    assert_eq!((old.id, old.timestamp), (anomaly.id, anomaly.timestamp));
    // Version 1 too (it lacks the Boundary symbol, not these fields' meaning).
    let v1: AnomalyEvent = decode(&as_version_one(&anomaly)).unwrap();
    assert_eq!((v1.count, v1.last_timestamp), (1, anomaly.timestamp));
}

#[test]
fn first_version_messages_decode_with_defaults_for_the_new_fields() {
    for schema in [
        CheckRequest::EARLIER_SCHEMAS[0].1,
        MatchResult::EARLIER_SCHEMAS[0].1,
        Label::EARLIER_SCHEMAS[0].1,
        ProfileEvent::EARLIER_SCHEMAS[0].1,
        DeadLetter::EARLIER_SCHEMAS[0].1,
        AnomalyEvent::EARLIER_SCHEMAS[0].1,
        AlertEvent::EARLIER_SCHEMAS[0].1,
    ] {
        let new = match schema().name().map(|n| n.name()) {
            Some("AnomalyEvent") => AnomalyEvent::schema(),
            Some("AlertEvent") => AlertEvent::schema(),
            Some("CheckRequest") => CheckRequest::schema(),
            Some("MatchResult") => MatchResult::schema(),
            Some("Label") => Label::schema(),
            Some("DeadLetter") => DeadLetter::schema(),
            _ => ProfileEvent::schema(),
        };
        let compat = SchemaCompatibility::can_read(schema(), new).unwrap();
        assert_eq!(compat, Compatibility::Full);
    }

    let check = checks().remove(0);
    let old: CheckRequest = decode(&as_version_one(&check)).unwrap();
    assert_eq!(old.series, check.series);
    assert_eq!(
        (old.full_duration, &old.echo_series, &old.alerts),
        (None, &None, &vec![])
    );
    // A v1 check's duration is its series' span.
    assert_eq!(old.full_duration(), 1439 * 60);

    let matched = matches().remove(3);
    let old: MatchResult = decode(&as_version_one(&matched)).unwrap();
    assert_eq!(old.distance, matched.distance);
    assert_eq!(
        (old.echo, old.profiles_checked, old.motif),
        (false, 0, None)
    );

    let label = labels().remove(0);
    let old: Label = decode(&as_version_one(&label)).unwrap();
    assert_eq!(old.layers_json, label.layers_json);
    assert_eq!((old.check_id, old.series), (None, None));

    let profile = profiles().remove(0);
    let old: ProfileEvent = decode(&as_version_one(&profile)).unwrap();
    assert_eq!(old.features, profile.features);
    assert_eq!(
        (old.learn, old.learn_settings, old.validated),
        (false, None, false)
    );

    let anomaly = anomalies().remove(0);
    let old: AnomalyEvent = decode(&as_version_one(&anomaly)).unwrap();
    assert_eq!(old, anomaly);

    let alert = alerts().remove(0);
    let old: AlertEvent = decode(&as_version_one(&alert)).unwrap();
    assert_eq!((&old.metric, old.value), (&alert.metric, alert.value));
    assert_eq!(
        (
            old.series,
            old.full_duration,
            old.expiration_time,
            old.boundary,
            old.fingerprinted,
            old.test
        ),
        (None, None, None, None, false, false)
    );

    let letter = dead_letters().remove(0);
    let old: DeadLetter = decode(&as_version_one(&letter)).unwrap();
    assert_eq!((&old.payload, &old.error), (&letter.payload, &letter.error));
    assert_eq!(
        (old.payload_length, old.payload_sha256, old.key_length),
        (None, None, None)
    );
}

#[test]
fn fitted_dead_letters_fit_and_say_what_was_cut() {
    let payload = vec![b'Z'; 600_000];
    let letter = DeadLetter {
        key: Some(vec![b'k'; 10_000]),
        payload: payload.clone(),
        error: format!("{}é", "e".repeat(DeadLetter::MAX_ERROR - 1)),
        ..dead_letters().remove(1)
    }
    .fitted();
    assert_eq!(letter.payload, &payload[..DeadLetter::MAX_PAYLOAD]);
    assert_eq!(letter.payload_length, Some(600_000));
    assert_eq!(
        letter.payload_sha256.as_deref(),
        Some(topics::sha256_hex(&payload).as_str())
    );
    assert_eq!(letter.payload_sha256.as_ref().unwrap().len(), 64);
    assert_eq!(
        (letter.key.as_ref().unwrap().len(), letter.key_length),
        (DeadLetter::MAX_KEY, Some(10_000))
    );
    // Cut on a character boundary ("é" is two bytes and does not fit).
    assert!(
        letter.error.ends_with("e… (2 more bytes)"),
        "{}",
        &letter.error[65_000..]
    );
    assert!(encode(&letter).unwrap().len() < 330 * 1024);

    // A small letter is kept whole, its length and hash recorded.
    let small = dead_letters().remove(1).fitted();
    assert_eq!(small.payload_length, Some(0));
    assert_eq!(
        small.payload_sha256.as_deref(),
        Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
}

// ---------------------------------------------------------------------------
// Schema evolution

/// What a second version of `Datapoint` could look like: a new optional
/// field, with a null default, appended. It is published under a new id (9
/// here); id 1 keeps meaning the original schema forever, and the new type
/// lists it among its earlier schemas so old messages stay readable.
///
/// A new version keeps its record name (`skyline.Datapoint`): schema
/// resolution matches records by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Datapoint")]
struct DatapointV2 {
    metric: String,
    timestamp: i64,
    value: f64,
    host: Option<String>,
}

const DATAPOINT_V2: &str = r#"{
  "type": "record",
  "name": "Datapoint",
  "namespace": "skyline",
  "doc": "Datapoint, second version (test only).",
  "fields": [
    {"name": "metric", "type": "string", "doc": "Metric name."},
    {"name": "timestamp", "type": "long", "doc": "Unix seconds."},
    {"name": "value", "type": "double", "doc": "The value."},
    {"name": "host", "type": ["null", "string"], "default": null, "doc": "Added in v2."}
  ]
}"#;

impl Event for DatapointV2 {
    const SCHEMA_ID: i32 = 9;
    const NAME: &'static str = "DatapointV2";
    const EARLIER_SCHEMAS: &'static [(i32, SchemaFn)] = &[(1, <Datapoint as Event>::schema)];

    fn schema() -> &'static Schema {
        static SCHEMA: OnceLock<Schema> = OnceLock::new();
        SCHEMA.get_or_init(|| Schema::parse_str(DATAPOINT_V2).unwrap())
    }
}

#[test]
fn the_new_schema_can_read_the_old_one() {
    let compat = SchemaCompatibility::can_read(Datapoint::schema(), DatapointV2::schema()).unwrap();
    assert_eq!(compat, Compatibility::Full);
    // And the old one can read the new (the added field is skipped).
    let compat = SchemaCompatibility::can_read(DatapointV2::schema(), Datapoint::schema()).unwrap();
    assert_eq!(compat, Compatibility::Full);
}

#[test]
fn old_messages_decode_with_the_new_reader_schema() {
    // Bytes a v1 producer wrote (id 1, the hand-written encoder).
    let old = Datapoint {
        metric: "stats.web01.cpu.user".into(),
        timestamp: 1_700_000_000,
        value: f64::from_bits(0x7ff8_0000_0000_0042),
    };
    let bytes = encode(&old).unwrap();
    assert_eq!(schema_id(&bytes).unwrap(), 1);

    // A v2 consumer reads them through schema resolution: the id says the
    // writer schema is v1, the missing field takes its default.
    let new: DatapointV2 = decode(&bytes).unwrap();
    assert_eq!(new.metric, old.metric);
    assert_eq!(new.timestamp, old.timestamp);
    assert_eq!(new.value.to_bits(), old.value.to_bits());
    assert_eq!(new.host, None);

    // v2 messages round-trip through the generic (serde) path.
    let v2 = DatapointV2 {
        host: Some("web01".into()),
        ..new.clone()
    };
    let v2_bytes = encode(&v2).unwrap();
    assert_eq!(schema_id(&v2_bytes).unwrap(), 9);
    let back: DatapointV2 = decode(&v2_bytes).unwrap();
    assert_eq!(back.host.as_deref(), Some("web01"));
    assert_eq!(encode(&back).unwrap(), v2_bytes);

    // A consumer not yet upgraded refuses the new id (to the dead-letter
    // topic) rather than misreading it...
    let err = decode::<Datapoint>(&v2_bytes).unwrap_err();
    assert!(
        matches!(
            err,
            CodecError::WrongSchema {
                found: 9,
                expected: 1,
                ..
            }
        ),
        "{err:?}"
    );
    // ...though, being given the v2 writer schema, it could resolve it.
    let (_, body) = split_header(&v2_bytes).unwrap();
    let downgraded: Datapoint = decode_resolving(body, DatapointV2::schema()).unwrap();
    assert_eq!(downgraded.metric, old.metric);

    // Resolution is just as strict about garbage.
    assert!(decode::<DatapointV2>(&bytes[..bytes.len() - 1]).is_err());
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        decode::<DatapointV2>(&long),
        Err(CodecError::TrailingBytes { count: 1, .. })
    ));
}

#[test]
fn resolution_handles_every_field_kind() {
    // Resolving a schema to itself goes through apache-avro's dynamic values
    // rather than serde: uuids, enums, unions, bytes and nested records must
    // come out the same as the direct path.
    fn same_via_resolution<E: Event + PartialEq + Debug>(items: Vec<E>) {
        for item in &items {
            let bytes = encode(item).unwrap();
            let back: E = decode_resolving(&bytes[5..], E::schema()).unwrap();
            assert_eq!(&back, item);
        }
    }
    same_via_resolution(anomalies());
    same_via_resolution(checks());
    same_via_resolution(matches());
    same_via_resolution(labels());
    same_via_resolution(profiles());
    same_via_resolution(alerts());
    same_via_resolution(dead_letters());
    same_via_resolution(deliveries());
    same_via_resolution(mutes());
    same_via_resolution(anomaly_ends());
    same_via_resolution(system_events());
}
