package io.linkcorrelator.streams;

/**
 * What the library knows of one record folded into a window, beside its value: where it was
 * originally read from (never a repartition topic), its event time, and whether its headers carried
 * a trace context in one of the configured formats (then the aggregate span links it). A {@link
 * LinkedAggregator} sees it per record, so that an aggregation needs neither to keep these facts in
 * its values nor to read the trace headers again.
 *
 * <p>Valid only during the {@link LinkedAggregator#apply} call it is passed to: keep what you need
 * of it, not the object.
 */
public interface Contributor {

  /**
   * The topic the record was originally read from.
   *
   * @return the source topic
   */
  String topic();

  /**
   * The partition the record was originally read from.
   *
   * @return the source partition
   */
  int partition();

  /**
   * The record's offset in its source partition.
   *
   * @return the source offset
   */
  long offset();

  /**
   * The record's event time: its Kafka timestamp, epoch milliseconds.
   *
   * @return the event time
   */
  long timestamp();

  /**
   * Whether the record carried a valid trace context in one of the configured formats ({@link
   * LinkedAggregations#withExtractFormats}; default {@code tracecontext,datadog,b3,jaeger}), so
   * that the aggregate span links it.
   *
   * @return true when the record is linked, false when it counts as unlinked
   */
  boolean linked();
}
