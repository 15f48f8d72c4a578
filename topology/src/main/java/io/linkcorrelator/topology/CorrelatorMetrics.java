package io.linkcorrelator.topology;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;

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
 *       chunk spans exported.
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
  }

  void record(Outcome outcome) {
    records.add(1, outcome.attributes);
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
