package io.linkcorrelator.streams;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KeyValueMapper;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.TimeWindows;

/**
 * A stream grouped for a linked aggregation ({@link LinkedAggregations#groupByKey} or {@link
 * LinkedAggregations#groupBy}), to be windowed: with the same window definitions, and the same
 * semantics, as Kafka Streams' {@code KGroupedStream.windowedBy}.
 *
 * @param <K> group key
 * @param <V> value
 */
public final class LinkedGroupedStream<K, V> {

  private final LinkedAggregations linked;
  private final KStream<?, ?> stream;
  private final KeyValueMapper<?, ?, K> selector;
  private final Serde<K> keySerde;
  private final Serde<V> valueSerde;
  private final boolean repartitions;
  private final String repartitionName;

  LinkedGroupedStream(
      LinkedAggregations linked,
      KStream<?, ?> stream,
      KeyValueMapper<?, ?, K> selector,
      Serde<K> keySerde,
      Serde<V> valueSerde,
      boolean repartitions,
      String repartitionName) {
    this.linked = linked;
    this.stream = stream;
    this.selector = selector;
    this.keySerde = keySerde;
    this.valueSerde = valueSerde;
    this.repartitions = repartitions;
    this.repartitionName = repartitionName;
  }

  /**
   * Tumbling or hopping windows: {@code [start, start + size)}, starting every advance.
   *
   * @param windows as for the DSL, e.g. {@code TimeWindows.ofSizeAndGrace(size, grace)}
   * @return the windowed stream, to aggregate
   */
  public LinkedWindowedStream<K, V> windowedBy(TimeWindows windows) {
    requireNonNull(windows, "windows");
    WindowSpec spec =
        windows.advanceMs == windows.sizeMs
            ? WindowSpec.tumbling(
                Duration.ofMillis(windows.sizeMs), Duration.ofMillis(windows.gracePeriodMs()))
            : WindowSpec.hopping(
                Duration.ofMillis(windows.sizeMs),
                Duration.ofMillis(windows.advanceMs),
                Duration.ofMillis(windows.gracePeriodMs()));
    return windowed(spec);
  }

  /**
   * Sliding windows, as the DSL's: for each record at {@code t}, the window {@code [t - difference,
   * t]}, and {@code [t + 1, t + 1 + difference]} when a record falls in it; ends inclusive.
   *
   * @param windows e.g. {@code SlidingWindows.ofTimeDifferenceAndGrace(difference, grace)}; the
   *     time difference must be at least 1 ms
   * @return the windowed stream, to aggregate
   * @throws IllegalArgumentException when the time difference is 0
   */
  public LinkedWindowedStream<K, V> windowedBy(SlidingWindows windows) {
    requireNonNull(windows, "windows");
    if (windows.timeDifferenceMs() < 1) {
      throw new IllegalArgumentException(
          "windows: the time difference of linked sliding windows must be at least 1 ms, got "
              + windows.timeDifferenceMs());
    }
    return windowed(
        WindowSpec.sliding(
            Duration.ofMillis(windows.timeDifferenceMs()),
            Duration.ofMillis(windows.gracePeriodMs())));
  }

  /**
   * Session windows, as the DSL's: per key, records closer than the inactivity gap form one session
   * {@code [first, last]} (ends inclusive); sessions merge when a record bridges them.
   *
   * @param windows e.g. {@code SessionWindows.ofInactivityGapAndGrace(gap, grace)}
   * @return the windowed stream, to aggregate
   */
  public LinkedWindowedStream<K, V> windowedBy(SessionWindows windows) {
    requireNonNull(windows, "windows");
    return windowed(
        WindowSpec.session(
            Duration.ofMillis(windows.inactivityGap()),
            Duration.ofMillis(windows.gracePeriodMs())));
  }

  private LinkedWindowedStream<K, V> windowed(WindowSpec spec) {
    return new LinkedWindowedStream<>(
        linked, stream, selector, keySerde, valueSerde, repartitions, repartitionName, spec);
  }
}
