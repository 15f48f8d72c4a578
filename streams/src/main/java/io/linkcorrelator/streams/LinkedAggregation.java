package io.linkcorrelator.streams;

import java.util.Locale;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.errors.TopologyException;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windows;
import org.apache.kafka.streams.kstream.internals.KStreamAggregate;
import org.apache.kafka.streams.kstream.internals.KStreamReduce;
import org.apache.kafka.streams.kstream.internals.KStreamSessionWindowAggregate;
import org.apache.kafka.streams.kstream.internals.KStreamSlidingWindowAggregate;
import org.apache.kafka.streams.kstream.internals.KStreamWindowAggregate;
import org.apache.kafka.streams.state.StateSerdes;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * One DSL aggregation that {@link LinkedProcessorWrapper} links, as found when the topology is
 * built: its window type and bounds, where its spans are emitted, and the store of its
 * contributors' trace contexts, shared by the aggregation's processor (which writes it) and a
 * {@code suppress} right after it (which reads it when it emits).
 */
final class LinkedAggregation {

  /** What the aggregation groups by. */
  enum Kind {
    TUMBLING,
    HOPPING,
    SLIDING,
    SESSION,
    /** a non-windowed {@code KGroupedStream} count/aggregate/reduce */
    KEYED;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Where and when the aggregation's spans are emitted. */
  enum Emission {
    /** one span per final result, when the aggregation forwards it ({@code onWindowClose()}) */
    FINAL_AT_AGGREGATION,
    /** one span per final result, when the {@code suppress(untilWindowCloses)} after it forwards */
    FINAL_AT_SUPPRESS,
    /** one span per forwarded update, linking the records folded in since the previous one */
    UPDATES
  }

  /** The shapes the wrapper supports, for the messages of the shapes it does not. */
  static final String SUPPORTED =
      "supported: windowed count/aggregate/reduce (tumbling, hopping, sliding, session windows)"
          + " with emitStrategy(EmitStrategy.onWindowClose()) or followed directly by"
          + " suppress(Suppressed.untilWindowCloses(...)); tumbling and session windowed and"
          + " non-windowed KGroupedStream count/aggregate/reduce emitting every update";

  final String processor;
  final Kind kind;
  final String dslStore;

  /**
   * Milliseconds one time window covers (a sliding window both its ends); for sessions, the gap
   * plus grace; 0 for non-windowed aggregations.
   */
  final long spanMs;

  private final TimeWindows timeWindows;
  private final boolean emitsOnWindowClose;
  private final StoreBuilder<?> contributorStore;
  private volatile boolean suppressed;

  /**
   * The DSL store's serdes, set by the aggregation's processor at init on its stream thread, where
   * the suppress after it (same task) runs too; per thread, since serdes need not be thread-safe.
   */
  private final ThreadLocal<StateSerdes<?, ?>> keySerdes = new ThreadLocal<>();

  private LinkedAggregation(
      String processor,
      Kind kind,
      String dslStore,
      TimeWindows timeWindows,
      boolean emitsOnWindowClose,
      long spanMs) {
    this.processor = processor;
    this.kind = kind;
    this.dslStore = dslStore;
    this.timeWindows = timeWindows;
    this.emitsOnWindowClose = emitsOnWindowClose;
    this.spanMs = spanMs;
    this.contributorStore =
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(processor + "-link-contributors"),
            Serdes.Bytes(),
            Serdes.ByteArray());
  }

  /**
   * The aggregation behind a DSL processor supplier, or null when the supplier is not one.
   *
   * @throws TopologyException when it is an aggregation of a shape the wrapper cannot link
   */
  static LinkedAggregation of(String processor, Object supplier) {
    if (supplier instanceof KStreamWindowAggregate<?, ?, ?, ?> windowed) {
      Windows<?> windows = windowed.windows();
      if (!(windows instanceof TimeWindows time)) {
        throw unsupported(
            processor, "a windowed aggregation over " + windows.getClass().getSimpleName());
      }
      long span = time.size();
      return new LinkedAggregation(
          processor,
          time.advanceMs == time.sizeMs ? Kind.TUMBLING : Kind.HOPPING,
          DslInternals.storeName(processor, supplier),
          time,
          DslInternals.emitsOnWindowClose(processor, supplier),
          span);
    }
    if (supplier instanceof KStreamSlidingWindowAggregate<?, ?, ?> sliding) {
      SlidingWindows windows = sliding.windows();
      long span = windows.timeDifferenceMs() + 1;
      return new LinkedAggregation(
          processor,
          Kind.SLIDING,
          DslInternals.storeName(processor, supplier),
          null,
          DslInternals.emitsOnWindowClose(processor, supplier),
          span);
    }
    if (supplier instanceof KStreamSessionWindowAggregate<?, ?, ?> session) {
      SessionWindows windows = session.windows();
      return new LinkedAggregation(
          processor,
          Kind.SESSION,
          DslInternals.storeName(processor, supplier),
          null,
          DslInternals.emitsOnWindowClose(processor, supplier),
          windows.inactivityGap() + windows.gracePeriodMs());
    }
    if (supplier instanceof KStreamAggregate<?, ?, ?> || supplier instanceof KStreamReduce<?, ?>) {
      return new LinkedAggregation(
          processor, Kind.KEYED, DslInternals.storeName(processor, supplier), null, false, 0);
    }
    return null;
  }

  static TopologyException unsupported(String processor, String shape) {
    return new TopologyException(
        "processor "
            + processor
            + " is "
            + shape
            + ", which LinkedProcessorWrapper cannot link to its contributors; "
            + SUPPORTED);
  }

  /** Called when the topology is built: a {@code suppress(untilWindowCloses)} follows. */
  void suppressedUntilWindowCloses() {
    suppressed = true;
  }

  Emission emission() {
    if (suppressed) {
      return Emission.FINAL_AT_SUPPRESS;
    }
    return emitsOnWindowClose ? Emission.FINAL_AT_AGGREGATION : Emission.UPDATES;
  }

  /**
   * Why this aggregation cannot be linked as it is built, or null when it can: updates of
   * overlapping windows (hopping, sliding) without a suppress, whose records fold into several
   * windows' updates at once.
   */
  String unsupportedShape() {
    if (emission() == Emission.UPDATES && (kind == Kind.HOPPING || kind == Kind.SLIDING)) {
      return "a "
          + kind.label()
          + " windowed aggregation that emits every update (neither"
          + " emitStrategy(onWindowClose()) nor followed by suppress(untilWindowCloses))";
    }
    return null;
  }

  StoreBuilder<?> contributorStore() {
    return contributorStore;
  }

  /**
   * When the records of an emitted session whose last record is at {@code end} can no longer be
   * merged into a later session: Kafka Streams keeps a session for gap plus grace after its end
   * (the default retention of its session store), plus up to one store segment (at least a minute)
   * until the segment is dropped.
   */
  long sessionExpiry(long end) {
    return end + spanMs + sessionSlackMs();
  }

  long sessionSlackMs() {
    return Math.max(spanMs / 2, 60_000L);
  }

  /** The hop between a tumbling or hopping aggregation's windows. */
  long advanceMs() {
    return timeWindows.advanceMs;
  }

  /**
   * Whether a tumbling or hopping aggregation drops a record of this time as late: every window
   * that could hold it has closed by the stream time the aggregation has seen (its own rule).
   */
  boolean lateForEveryWindow(long timestamp, long streamTime) {
    return timeWindows != null
        && timeWindows.windowsFor(timestamp).values().stream()
            .allMatch(window -> window.end() + timeWindows.gracePeriodMs() <= streamTime);
  }

  /** Last time of a window whose forwarded end is {@code end}: exclusive for time windows. */
  long lastIncluded(long end) {
    return kind == Kind.TUMBLING || kind == Kind.HOPPING ? end - 1 : end;
  }

  /** Registers the serdes of the DSL store (the aggregation's processor does, at init). */
  void keySerdes(StateSerdes<?, ?> serdes) {
    keySerdes.set(serdes);
  }

  /** The key's bytes, as the aggregation's own store writes them. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  byte[] keyBytes(Object key) {
    StateSerdes serdes = keySerdes.get();
    if (serdes == null) {
      throw new IllegalStateException(
          "processor " + processor + " has not been initialised on this thread");
    }
    return serdes.rawKey(key);
  }
}
