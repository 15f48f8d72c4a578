package io.linkcorrelator.streams;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.kstream.Initializer;
import org.apache.kafka.streams.kstream.Window;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.kstream.internals.SessionWindow;
import org.apache.kafka.streams.kstream.internals.TimeWindow;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The library API's fold: the user's initializer, then the user's aggregator over each
 * contribution's value read back in the user's value serde (and the contribution itself, as the
 * {@link Contributor} a {@link LinkedAggregator} sees), into a record keyed as Kafka Streams' DSL
 * keys its windowed results (a {@link TimeWindow} for time and sliding windows, a {@link
 * SessionWindow} for sessions; sliding and session ends inclusive), at the window's latest event
 * time.
 *
 * @param <K> group key
 * @param <V> value
 * @param <VA> aggregate
 */
final class AggregateFold<K, V, VA> implements WindowFold<Windowed<K>, VA> {

  private static final byte[] NO_BYTES = new byte[0];

  private final WindowSpec spec;
  private final Deserializer<K> keys;
  private final Deserializer<V> values;
  private final LinkedAggregator<? super K, ? super V, VA> aggregator;
  private final String groupKey;
  private K key;
  private VA aggregate;

  private AggregateFold(
      WindowSpec spec,
      Deserializer<K> keys,
      Deserializer<V> values,
      LinkedAggregator<? super K, ? super V, VA> aggregator,
      String groupKey,
      VA initial) {
    this.spec = spec;
    this.keys = keys;
    this.values = values;
    this.aggregator = aggregator;
    this.groupKey = groupKey;
    this.aggregate = initial;
  }

  /**
   * @param values the value serde's deserializer, or null when values are not kept (count)
   */
  static <K, V, VA> WindowFold.Factory<Windowed<K>, VA> factory(
      WindowSpec spec,
      Deserializer<K> keys,
      Deserializer<V> values,
      Initializer<VA> initializer,
      LinkedAggregator<? super K, ? super V, VA> aggregator) {
    return (groupKey, start, end) ->
        new AggregateFold<>(spec, keys, values, aggregator, groupKey, initializer.apply());
  }

  @Override
  public void add(Contribution contribution) {
    if (key == null) {
      key = keys.deserialize(contribution.topic(), GroupKeys.bytes(groupKey));
    }
    V value = values == null ? null : values.deserialize(contribution.topic(), bytes(contribution));
    aggregate = aggregator.apply(key, value, contribution, aggregate);
  }

  /** The value's bytes; a value serialized to no bytes is not kept ({@link SerdeGrouping}). */
  private static byte[] bytes(Contribution contribution) {
    return contribution.value() == null ? NO_BYTES : contribution.value().get();
  }

  @Override
  public Record<Windowed<K>, VA> result(WindowFold.Summary summary) {
    return new Record<>(
        new Windowed<>(key, window(summary.start(), summary.end())),
        aggregate,
        summary.lastEventTime());
  }

  /** The DSL's window of [start, end). */
  private Window window(long start, long end) {
    return switch (spec.type()) {
      case SLIDING -> new TimeWindow(start, end - 1);
      case SESSION -> new SessionWindow(start, end - 1);
      default -> new TimeWindow(start, end);
    };
  }
}
