//! Bounded fuzzing of the Avro datapoint decoder (the hand-written fast
//! path every consumer of `skyline.datapoints` runs on outside input), with
//! the suite: any bytes decode or are refused without panicking, and agree
//! with apache-avro's generic reader; every datapoint round-trips.
//!
//! Cases per property: `PROPTEST_CASES`, 3000 unless set (`.cargo/config.toml`);
//! longer runs: `PROPTEST_CASES=200000 cargo test -p skyline-topics --test fuzz_datapoint`.

use apache_avro::reader::datum::GenericDatumReader;
use proptest::prelude::*;
use topics::codec::{decode, encode, Event};
use topics::Datapoint;

/// Whether apache-avro's generic reader accepts `body` as a whole datapoint.
fn generic_accepts(body: &[u8]) -> bool {
    let mut rest = body;
    let reader = GenericDatumReader::builder(Datapoint::schema())
        .build()
        .unwrap();
    reader.read_value(&mut rest).is_ok() && rest.is_empty()
}

fn datapoint() -> impl Strategy<Value = Datapoint> {
    (any::<String>(), any::<i64>(), any::<f64>()).prop_map(|(metric, timestamp, value)| Datapoint {
        metric,
        timestamp,
        value,
    })
}

proptest! {
    #[test]
    fn datapoints_round_trip(d in datapoint()) {
        let back: Datapoint = decode(&encode(&d).unwrap()).unwrap();
        prop_assert_eq!(back.metric, d.metric);
        prop_assert_eq!(back.timestamp, d.timestamp);
        prop_assert_eq!(back.value.to_bits(), d.value.to_bits());
    }

    #[test]
    fn arbitrary_bodies_decode_as_apache_avro_does(body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut message = vec![0, 0, 0, 0, 1];
        message.extend_from_slice(&body);
        let fast = decode::<Datapoint>(&message);
        prop_assert_eq!(fast.is_ok(), generic_accepts(&body), "{:?}", fast);
    }

    #[test]
    fn mutated_datapoints_never_panic(
        d in datapoint(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut message = encode(&d).unwrap();
        for (at, byte) in flips {
            let i = at.index(message.len());
            message[i] ^= byte;
        }
        message.truncate(cut.index(message.len() + 1));
        let _ = decode::<Datapoint>(&message);
    }
}
