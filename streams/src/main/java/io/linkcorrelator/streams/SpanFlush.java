package io.linkcorrelator.streams;

import io.opentelemetry.sdk.common.CompletableResultCode;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds window results back until their spans are exported, so that a result a consumer can see
 * always has its spans at the backend: were the process killed right after, the spans would
 * otherwise die in the exporter's queue while the result survives. Bounded: when an export is not
 * confirmed within the timeout (the backend is down), results stop waiting for exports until one
 * succeeds again, so an outage never stalls the stream.
 */
final class SpanFlush {

  private static final Logger LOG = LoggerFactory.getLogger(SpanFlush.class);

  private final Supplier<CompletableResultCode> flush;
  private final long timeoutMs;
  private final Consumer<Boolean> waiting;
  private boolean healthy = true;
  private CompletableResultCode probe;

  /**
   * @param flush exports everything ended so far (the SDK's {@code forceFlush}); null for none
   * @param timeoutMs how long to wait for it; 0 never waits
   * @param waiting told when results stop waiting for their spans' export (false) and when they
   *     wait again (true): the {@code correlator.export.waiting} gauge
   */
  SpanFlush(Supplier<CompletableResultCode> flush, long timeoutMs, Consumer<Boolean> waiting) {
    this.flush = flush;
    this.timeoutMs = timeoutMs;
    this.waiting = waiting;
  }

  /**
   * Whether results wait for their spans' export at all.
   *
   * @return false without an SDK to flush or with a zero timeout
   */
  boolean waits() {
    return flush != null && timeoutMs > 0;
  }

  /** Waits until the spans ended so far are exported, unless exports are failing. */
  void awaitExport() {
    if (!waits()) {
      return;
    }
    if (!healthy) {
      if (probe != null && probe.isDone() && probe.isSuccess()) {
        healthy = true;
        waiting.accept(true);
        LOG.info("span export confirmed again; results wait for their spans again");
      } else {
        if (probe == null || probe.isDone()) {
          probe = flush.get(); // does not wait: a later call sees how it went
        }
        return;
      }
    }
    CompletableResultCode result = flush.get().join(timeoutMs, TimeUnit.MILLISECONDS);
    if (!result.isSuccess()) {
      healthy = false;
      probe = null;
      waiting.accept(false);
      LOG.warn(
          "span export not confirmed within correlator.export.flush.timeout.ms ({} ms): results"
              + " no longer wait for their spans until an export succeeds; a crash in that time"
              + " can lose spans of results already written",
          timeoutMs);
    }
  }
}
