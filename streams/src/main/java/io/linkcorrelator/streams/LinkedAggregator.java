package io.linkcorrelator.streams;

/**
 * Folds the next record of a window into its aggregate, as Kafka Streams' {@code Aggregator} does,
 * and also sees what the library knows of the record ({@link Contributor}: its origin, event time
 * and whether it is linked). For {@code LinkedWindowedStream.aggregate(Initializer,
 * LinkedAggregator, Named)}.
 *
 * @param <K> group key
 * @param <V> value
 * @param <VA> aggregate
 */
@FunctionalInterface
public interface LinkedAggregator<K, V, VA> {

  /**
   * Folds one record into the aggregate.
   *
   * @param key the group key
   * @param value the record's value, read back in the value serde
   * @param contributor what the library knows of the record; valid only during this call
   * @param aggregate the aggregate so far
   * @return the new aggregate
   */
  VA apply(K key, V value, Contributor contributor, VA aggregate);
}
