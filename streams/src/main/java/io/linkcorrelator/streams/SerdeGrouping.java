package io.linkcorrelator.streams;

import io.linkcorrelator.streams.CorrelatorMetrics.Outcome;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.kstream.KeyValueMapper;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The library API's part of the capture step: the group key is the record key (or the selector's
 * new key) in the user's key serde, kept as {@link GroupKeys} text; the value is kept in the user's
 * value serde, for the fold at close (a value serialized to zero bytes is not kept at all; the fold
 * gets zero bytes back). Serdes are called with the source topic's name. A selector or serde that
 * fails rejects the record, naming what failed.
 *
 * @param <K> input key
 * @param <V> value
 * @param <KR> group key
 */
final class SerdeGrouping<K, V, KR> implements LinkCapture.Grouping<K, V> {

  private final KeyValueMapper<K, V, KR> selector;
  private final Serializer<KR> keys;
  private final Serializer<V> values;

  /**
   * @param selector the new key, or null for the record key
   * @param values the value serde's serializer, or null when values are not kept (count)
   */
  SerdeGrouping(KeyValueMapper<K, V, KR> selector, Serializer<KR> keys, Serializer<V> values) {
    this.selector = selector;
    this.keys = keys;
    this.values = values;
  }

  @Override
  @SuppressWarnings("unchecked")
  public LinkCapture.Grouped group(Record<K, V> record, String topic) {
    KR key;
    try {
      key = selector == null ? (KR) record.key() : selector.apply(record.key(), record.value());
    } catch (RuntimeException e) {
      throw new LinkCapture.Rejected(Outcome.INVALID_KEY, "the key selector failed: " + e);
    }
    if (key == null) {
      return new LinkCapture.Grouped(null, null);
    }
    byte[] keyBytes;
    try {
      keyBytes = keys.serialize(topic, key);
    } catch (RuntimeException e) {
      throw new LinkCapture.Rejected(Outcome.INVALID_KEY, "the key serde failed: " + e);
    }
    Bytes value = null;
    if (values != null) {
      try {
        byte[] bytes = values.serialize(topic, record.value());
        if (bytes == null) {
          throw new IllegalStateException("it serialized the value to null");
        }
        // Nothing to keep: the fold reads zero bytes back (AggregateFold).
        value = bytes.length == 0 ? null : Bytes.wrap(bytes);
      } catch (RuntimeException e) {
        throw new LinkCapture.Rejected(Outcome.INVALID_VALUE, "the value serde failed: " + e);
      }
    }
    return new LinkCapture.Grouped(GroupKeys.of(keyBytes), value);
  }

  @Override
  public String describeMissingKey() {
    return selector == null ? "null record key" : "the key selector returned null";
  }
}
