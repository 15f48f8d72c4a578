package io.linkcorrelator.streams;

import io.opentelemetry.api.trace.SpanContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * What a closed window's result is: its contributions are fed in one at a time, in event-time order
 * (ties in source topic/partition/offset order), straight from the contributor log, and the fold
 * makes the output record of them. The application folds a count/sum/min/max summary into a {@code
 * WindowResult}; the library API folds the user's initializer and aggregator over the values kept
 * in the user's serde.
 *
 * @param <K> output key
 * @param <V> output value
 */
interface WindowFold<K, V> {

  /** Folds in the next contribution. */
  void add(Contribution contribution);

  /**
   * The output record, once every contribution was added (at least one); its headers are replaced
   * by the aggregate span's context.
   */
  Record<K, V> result(Summary summary);

  /** Opens the fold of one window, per closing window. */
  @FunctionalInterface
  interface Factory<K, V> {

    /**
     * @param groupKey the window's group key, as kept in the state stores ({@link GroupKeys})
     * @param start window start, inclusive
     * @param end window end, exclusive
     */
    WindowFold<K, V> open(String groupKey, long start, long end);
  }

  /**
   * What the emission counted of a window, beside the fold.
   *
   * @param groupKey the group key ({@link GroupKeys})
   * @param window the window rules
   * @param start window start, inclusive
   * @param end window end, exclusive
   * @param count contributors
   * @param linked contributors with a valid trace context
   * @param unlinked contributors without one
   * @param firstEventTime the earliest event time
   * @param lastEventTime the latest event time
   * @param aggregate the aggregate span's context
   */
  record Summary(
      String groupKey,
      WindowSpec window,
      long start,
      long end,
      long count,
      long linked,
      long unlinked,
      long firstEventTime,
      long lastEventTime,
      SpanContext aggregate) {}
}
