//! Latency histograms in results files: hdrhistogram's V2 serialization
//! (uncompressed), encoded as standard base64.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::Histogram;

/// Encodes a histogram as base64 of its V2 serialization.
pub fn encode(histogram: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(histogram, &mut bytes)
        .expect("serializing into memory does not fail");
    STANDARD.encode(bytes)
}

/// Decodes a histogram that [`encode`] wrote, or returns a message saying
/// what is wrong with `text`.
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| format!("invalid base64 ({e})"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("invalid V2 histogram ({e:?})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_round_trips() {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        for value in [850, 1_620, 1_620, 3_100_000, 42] {
            histogram.record(value).unwrap();
        }
        let decoded = decode(&encode(&histogram)).unwrap();
        assert_eq!(decoded.len(), 5);
        assert_eq!(
            decoded.value_at_quantile(0.5),
            histogram.value_at_quantile(0.5)
        );
        assert_eq!(decoded.max(), histogram.max());
        assert_eq!(decoded, histogram);
    }

    #[test]
    fn invalid_text_is_an_error() {
        assert!(decode("not base64!")
            .unwrap_err()
            .starts_with("invalid base64"));
        assert!(decode("AAAA")
            .unwrap_err()
            .starts_with("invalid V2 histogram"));
    }
}
