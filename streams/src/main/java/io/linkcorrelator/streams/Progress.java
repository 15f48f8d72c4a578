package io.linkcorrelator.streams;

import static java.util.Objects.requireNonNull;

/**
 * A progress marker: the capture step has read source partition {@code topic}-{@code partition} up
 * to event time {@code eventTime} (the largest it accepted; {@link Long#MIN_VALUE} when it has
 * accepted nothing yet). Multicast to every partition of the repartition topic after the records it
 * covers, so a window step that reads it has already read every record of that partition up to that
 * time.
 *
 * @param topic source topic
 * @param partition source partition
 * @param eventTime the largest event time accepted from it, or {@link Long#MIN_VALUE}
 */
record Progress(String topic, int partition, long eventTime) implements Captured {

  Progress {
    requireNonNull(topic, "topic");
  }
}
