package io.linkcorrelator.streams;

import io.opentelemetry.sdk.common.CompletableResultCode;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds window results back until their spans are exported, so that a result a consumer can see
 * always has its spans at the backend: were the process killed right after, the spans would
 * otherwise die in the exporter's queue while the result survives. It never blocks: {@link #start}
 * asks the SDK to export the spans ended so far and {@link #done} says whether results emitted
 * before may be written yet, so the stream thread goes on processing records while an export is
 * under way. Bounded: when an export is not confirmed within the timeout (the backend is down),
 * results stop waiting for exports until one succeeds again, so an outage never stalls the stream.
 */
final class SpanFlush {

  private static final Logger LOG = LoggerFactory.getLogger(SpanFlush.class);

  /** An export that results need not wait for. */
  private static final Export NONE = new Export(CompletableResultCode.ofSuccess(), 0);

  private final Supplier<CompletableResultCode> flush;
  private final long timeoutMs;
  private final Consumer<Boolean> waiting;
  private final LongSupplier nanoTime;
  private boolean healthy = true;
  private CompletableResultCode probe;

  /**
   * An export of the spans ended up to its start.
   *
   * @param result the SDK's flush
   * @param startedNanos when it started, in {@link System#nanoTime()}'s terms
   */
  record Export(CompletableResultCode result, long startedNanos) {}

  /**
   * @param flush exports everything ended so far (the SDK's {@code forceFlush}); null for none
   * @param timeoutMs how long results wait for it; 0 never waits
   * @param waiting told when results stop waiting for their spans' export (false) and when they
   *     wait again (true): the {@code correlator.export.waiting} gauge
   */
  SpanFlush(Supplier<CompletableResultCode> flush, long timeoutMs, Consumer<Boolean> waiting) {
    this(flush, timeoutMs, waiting, System::nanoTime);
  }

  SpanFlush(
      Supplier<CompletableResultCode> flush,
      long timeoutMs,
      Consumer<Boolean> waiting,
      LongSupplier nanoTime) {
    this.flush = flush;
    this.timeoutMs = timeoutMs;
    this.waiting = waiting;
    this.nanoTime = nanoTime;
  }

  /**
   * Whether results wait for their spans' export at all.
   *
   * @return false without an SDK to flush or with a zero timeout
   */
  boolean waits() {
    return flush != null && timeoutMs > 0;
  }

  /**
   * Starts exporting the spans ended so far, without waiting, also when results do not wait for it
   * (a zero timeout): spans go out at once instead of on the span processor's schedule ({@code
   * otel.bsp.schedule.delay}, 5 s by default). While exports are failing it starts at most one
   * probe at a time instead, and results do not wait.
   *
   * @return what results emitted so far wait for, see {@link #done}
   */
  Export start() {
    if (flush == null) {
      return NONE;
    }
    if (timeoutMs == 0) {
      flush.get(); // exported now rather than on the span processor's schedule; never waited for
      return NONE;
    }
    if (!healthy) {
      if (probe != null && probe.isDone() && probe.isSuccess()) {
        healthy = true;
        waiting.accept(true);
        LOG.info("span export confirmed again; results wait for their spans again");
      } else {
        if (probe == null || probe.isDone()) {
          probe = flush.get(); // a later call sees how it went
        }
        return NONE;
      }
    }
    return new Export(flush.get(), nanoTime.getAsLong());
  }

  /**
   * Whether results emitted before {@code export} started may be written now: their spans are
   * exported, or the export failed or was not confirmed within the timeout (then results stop
   * waiting until an export succeeds again). Never blocks.
   */
  boolean done(Export export) {
    if (export == NONE) {
      return true;
    }
    CompletableResultCode result = export.result();
    if (result.isDone() && result.isSuccess()) {
      return true;
    }
    if (!result.isDone() && nanoTime.getAsLong() - export.startedNanos() < timeoutMs * 1_000_000) {
      return false;
    }
    if (healthy) {
      healthy = false;
      probe = null;
      waiting.accept(false);
      LOG.warn(
          "span export not confirmed within correlator.export.flush.timeout.ms ({} ms): results"
              + " no longer wait for their spans until an export succeeds; a crash in that time"
              + " can lose spans of results already written",
          timeoutMs);
    }
    return true;
  }
}
