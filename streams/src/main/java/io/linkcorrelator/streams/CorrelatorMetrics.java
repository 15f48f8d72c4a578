package io.linkcorrelator.streams;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import java.util.concurrent.atomic.LongAccumulator;

/**
 * The correlator's counters, recorded through the injected OpenTelemetry's meter {@code
 * io.linkcorrelator}, so they are exported with the application's other metrics.
 *
 * <ul>
 *   <li>{@code correlator.records} by {@code correlator.outcome}: {@code linked}, {@code unlinked}
 *       (counted in a window), {@code late} (after its window closed), {@code invalid_key}, {@code
 *       invalid_value}, {@code invalid_timestamp}, {@code tombstone} (not counted in any window;
 *       logged with topic/partition/offset);
 *   <li>{@code correlator.windows.emitted}: window results written; {@code
 *       correlator.windows.failed}: closed windows whose emission failed (logged with the reason);
 *   <li>{@code correlator.links.emitted}: span links exported; {@code correlator.spans.chunks}:
 *       chunk spans exported;
 *   <li>{@code correlator.stream_time.lag} (gauge, seconds): the wall clock minus the correlator's
 *       stream time (the largest event time that reached the windows of this instance), fed by
 *       {@link #streamTime(long)}; absent until a record reached the windows;
 *   <li>{@code correlator.export.waiting} (gauge, 1 or 0): whether window results wait for their
 *       spans' export (see {@link SpanFlush}), fed by {@link #exportWaiting(boolean)}; 0 when an
 *       export was not confirmed in time (the backend is down or slow) until one is again, or when
 *       waiting is off.
 * </ul>
 */
final class CorrelatorMetrics {

  private static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("correlator.outcome");

  enum Outcome {
    LINKED,
    UNLINKED,
    LATE,
    INVALID_KEY,
    INVALID_VALUE,
    INVALID_TIMESTAMP,
    TOMBSTONE;

    final Attributes attributes = Attributes.of(OUTCOME, name().toLowerCase(java.util.Locale.ROOT));
  }

  private final LongCounter records;
  private final LongCounter windows;
  private final LongCounter failedWindows;
  private final LongCounter links;
  private final LongCounter chunks;
  private final LongAccumulator streamTime = new LongAccumulator(Math::max, Long.MIN_VALUE);
  private volatile boolean exportWaiting;

  CorrelatorMetrics(OpenTelemetry openTelemetry) {
    Meter meter = openTelemetry.getMeter("io.linkcorrelator");
    records =
        meter
            .counterBuilder("correlator.records")
            .setDescription("Input records by what became of them")
            .setUnit("{record}")
            .build();
    windows =
        meter
            .counterBuilder("correlator.windows.emitted")
            .setDescription("Window results written to the output topic")
            .setUnit("{window}")
            .build();
    failedWindows =
        meter
            .counterBuilder("correlator.windows.failed")
            .setDescription("Closed windows whose result could not be emitted")
            .setUnit("{window}")
            .build();
    links =
        meter
            .counterBuilder("correlator.links.emitted")
            .setDescription("Span links exported on aggregate and chunk spans")
            .setUnit("{link}")
            .build();
    chunks =
        meter
            .counterBuilder("correlator.spans.chunks")
            .setDescription("Chunk spans exported for windows beyond one span's link budget")
            .setUnit("{span}")
            .build();
    meter
        .gaugeBuilder("correlator.stream_time.lag")
        .setDescription("Wall clock minus the largest event time that reached the windows")
        .setUnit("s")
        .buildWithCallback(
            gauge -> {
              long time = streamTime.get();
              if (time != Long.MIN_VALUE) {
                gauge.record((System.currentTimeMillis() - time) / 1_000.0);
              }
            });
    meter
        .gaugeBuilder("correlator.export.waiting")
        .setDescription(
            "1 while window results wait for their spans' export, 0 while they do not (an export"
                + " was not confirmed in time, or waiting is off)")
        .setUnit("1")
        .ofLongs()
        .buildWithCallback(gauge -> gauge.record(exportWaiting ? 1 : 0));
  }

  void record(Outcome outcome) {
    records.add(1, outcome.attributes);
  }

  /**
   * The window step's hook for {@code correlator.stream_time.lag}: called with the stream time
   * after each record; cheap (one atomic max).
   */
  void streamTime(long time) {
    streamTime.accumulate(time);
  }

  /** {@link SpanFlush}'s hook for {@code correlator.export.waiting}: called when it changes. */
  void exportWaiting(boolean waiting) {
    exportWaiting = waiting;
  }

  void windowEmitted(long linkCount, int chunkCount) {
    windows.add(1);
    links.add(linkCount);
    chunks.add(chunkCount);
  }

  void windowFailed() {
    failedWindows.add(1);
  }
}
