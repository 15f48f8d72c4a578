package io.linkcorrelator.streams;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.Meter;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the spans that never reach the backend, as {@code correlator.spans.dropped{error.type}}:
 * {@code export_failed} when their export failed for good (after the exporter's own retries),
 * {@code shutdown} when OpenTelemetry shut down while they still waited for room in the batch
 * processor's queue ({@link ExportQueue}). A drop is logged at WARN at most once per {@value
 * #LOG_EVERY_MS} ms, with the spans dropped since the last such line (the rest at shutdown).
 */
public final class DroppedSpans {

  private static final Logger LOG = LoggerFactory.getLogger(DroppedSpans.class);

  static final long LOG_EVERY_MS = 60_000;

  private static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  private static final Attributes EXPORT_FAILED = Attributes.of(ERROR_TYPE, "export_failed");
  private static final Attributes SHUTDOWN = Attributes.of(ERROR_TYPE, "shutdown");

  private final LongAdder exportFailed = new LongAdder();
  private final LongAdder shutdown = new LongAdder();
  private long logged;
  private long loggedAtMs;
  private boolean everLogged;

  /** Counts the spans of an export that failed for good (after the exporter's own retries). */
  void exportFailed(long count) {
    exportFailed.add(count);
    log(false);
  }

  /** Counts spans that were still waiting for the batch processor's queue at shutdown. */
  void shutdownLost(long count) {
    shutdown.add(count);
    log(true);
  }

  /** Logs the spans dropped since the last line, unless one was written within the interval. */
  private synchronized void log(boolean now) {
    long total = total();
    long nowMs = System.currentTimeMillis();
    if (total == logged || (!now && everLogged && nowMs - loggedAtMs < LOG_EVERY_MS)) {
      return;
    }
    LOG.warn(
        "{} spans dropped (their links do not reach the backend), {} in all since start:"
            + " correlator.spans.dropped (export_failed {}, shutdown {})",
        total - logged,
        total,
        exportFailed.sum(),
        shutdown.sum());
    logged = total;
    loggedAtMs = nowMs;
    everLogged = true;
  }

  /** Nothing dropped yet. */
  public DroppedSpans() {}

  /**
   * Reports the count (from 0, so the series exists before the first drop).
   *
   * @param meter where {@code correlator.spans.dropped} is reported
   */
  public void register(Meter meter) {
    meter
        .counterBuilder("correlator.spans.dropped")
        .setDescription("Spans that never reach the backend, by error.type")
        .setUnit("{span}")
        .buildWithCallback(
            counter -> {
              counter.record(exportFailed.sum(), EXPORT_FAILED);
              counter.record(shutdown.sum(), SHUTDOWN);
              log(false);
            });
  }

  long total() {
    return exportFailed.sum() + shutdown.sum();
  }

  long exportFailed() {
    return exportFailed.sum();
  }
}
