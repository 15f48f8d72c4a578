package io.linkcorrelator.app;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.LongSupplier;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stream thread that died of an unexpected error is replaced at most {@code max} times within
 * {@code interval}; one more failure shuts the Kafka Streams client down (state ERROR), so a
 * deterministic failure ends instead of looping, and the process exits for a supervisor to see.
 */
final class ThreadReplacements implements StreamsUncaughtExceptionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(ThreadReplacements.class);

  private final int max;
  private final long intervalNanos;
  private final LongSupplier nanoClock;
  private final Deque<Long> replacements = new ArrayDeque<>();

  ThreadReplacements(int max, Duration interval, LongSupplier nanoClock) {
    this.max = max;
    this.intervalNanos = interval.toNanos();
    this.nanoClock = nanoClock;
  }

  @Override
  public synchronized StreamThreadExceptionResponse handle(Throwable error) {
    long now = nanoClock.getAsLong();
    while (!replacements.isEmpty() && now - replacements.peekFirst() >= intervalNanos) {
      replacements.removeFirst();
    }
    if (replacements.size() < max) {
      replacements.addLast(now);
      LOG.error(
          "a stream thread failed; replacing it ({} of at most {} replacements per {} ms)",
          replacements.size(),
          max,
          intervalNanos / 1_000_000,
          error);
      return StreamThreadExceptionResponse.REPLACE_THREAD;
    }
    LOG.error(
        "a stream thread failed after {} replacements within {} ms; shutting Kafka Streams down"
            + " (correlator.thread.replacements.max, correlator.thread.replacements.interval.ms)",
        replacements.size(),
        intervalNanos / 1_000_000,
        error);
    return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
  }
}
