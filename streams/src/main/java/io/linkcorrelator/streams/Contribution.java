package io.linkcorrelator.streams;

import static java.util.Objects.requireNonNull;

import io.linkcorrelator.streams.propagation.TraceContext;
import java.util.List;

/**
 * What one message contributes to a window: where it was ORIGINALLY read from (never a repartition
 * topic), its event time, the producer span context(s) found in its headers, and the numeric value
 * to aggregate, if any. It travels through the repartition topic and is kept, one per message, in
 * the contributor log until its windows close.
 *
 * @param topic source topic of the original message
 * @param partition source partition
 * @param offset source offset
 * @param timestamp event time, epoch milliseconds
 * @param contexts contexts to link, primary first; empty when the message is unlinked
 * @param hasValue whether the aggregate field was present and numeric
 * @param value the aggregate field's value, when {@code hasValue}
 */
record Contribution(
    String topic,
    int partition,
    long offset,
    long timestamp,
    List<TraceContext> contexts,
    boolean hasValue,
    double value)
    implements Captured {

  Contribution {
    requireNonNull(topic, "topic");
    contexts = List.copyOf(contexts);
  }

  boolean linked() {
    return !contexts.isEmpty();
  }
}
