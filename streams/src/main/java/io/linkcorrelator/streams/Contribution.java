package io.linkcorrelator.streams;

import static java.util.Objects.requireNonNull;

import io.linkcorrelator.streams.propagation.TraceContext;
import java.util.List;
import org.apache.kafka.common.utils.Bytes;

/**
 * What one message contributes to a window: where it was ORIGINALLY read from (never a repartition
 * topic), its event time, the producer span context(s) found in its headers, and the serialized
 * value the window's aggregate folds at close, if any (the application keeps its numeric field as
 * an 8-byte double; the library API the record's value in the user's value serde). It travels
 * through the repartition topic and is kept, one per message, in the contributor log until its
 * windows close.
 *
 * @param topic source topic of the original message
 * @param partition source partition
 * @param offset source offset
 * @param timestamp event time, epoch milliseconds
 * @param contexts contexts to link, primary first; empty when the message is unlinked
 * @param value the serialized value to fold at close; null when there is none
 */
record Contribution(
    String topic,
    int partition,
    long offset,
    long timestamp,
    List<TraceContext> contexts,
    Bytes value)
    implements Captured, Contributor {

  Contribution {
    requireNonNull(topic, "topic");
    contexts = List.copyOf(contexts);
  }

  @Override
  public boolean linked() {
    return !contexts.isEmpty();
  }
}
