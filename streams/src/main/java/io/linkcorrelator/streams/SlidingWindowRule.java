package io.linkcorrelator.streams;

import org.apache.kafka.common.utils.Bytes;

/**
 * Sliding windows, as Kafka Streams' {@code KStreamSlidingWindowAggregate} with time difference
 * {@code d}: each record at {@code t} has its left window {@code [t - d, t]} and, when a record
 * falls in it, its right window {@code [t + 1, t + 1 + d]} (both ends inclusive; stored with the
 * end plus one). A record is late when {@code t + 1 + d <= streamTime - grace}: then every window
 * that can hold it has closed. Otherwise it joins every open window that holds it; like the DSL, a
 * record whose own window has closed and that no open window holds counts nowhere, and is treated
 * as late.
 *
 * <p>The right window is registered with every record and emitted only when something fell in it,
 * so that it is there, with every record it holds, however late a record of it arrives.
 */
final class SlidingWindowRule implements WindowRule {

  private final WindowSpec spec;
  private final OpenWindows windows;
  private final ContributorLog log;

  SlidingWindowRule(WindowSpec spec, OpenWindows windows, ContributorLog log) {
    this.spec = spec;
    this.windows = windows;
    this.log = log;
  }

  @Override
  public Assigned assign(byte[] key, long time, long before, long streamTime, long now) {
    long difference = spec.slidingDifferenceMs();
    long rightEnd = WindowSpec.plus(WindowSpec.plus(time, difference), 2);
    if (spec.closeTime(rightEnd - 1) <= streamTime) {
      return Assigned.LATE; // t + 1 + d <= stream time - grace
    }
    boolean joins =
        windows.register(
                key, WindowSpec.minus(time, difference), WindowSpec.plus(time, 1), streamTime, now)
            || openWindowHolds(key, time, streamTime);
    if (joins || log.any(key, WindowSpec.plus(time, 1), WindowSpec.plus(time, difference))) {
      // Like the DSL, a record that counts nowhere still opens its right window when a record
      // already falls in it.
      windows.register(key, WindowSpec.plus(time, 1), rightEnd, streamTime, now);
    }
    return joins ? Assigned.OPEN : Assigned.LATE;
  }

  @Override
  public ContributorLog.Entries contributors(Bytes window) {
    return WindowRule.arrivedBeforeClose(log, spec, window);
  }

  /** Whether a registered, still open window of key holds time: one starting in [t - d, t]. */
  private boolean openWindowHolds(byte[] key, long time, long streamTime) {
    long difference = spec.slidingDifferenceMs();
    // A window [s, s + d + 1) is open while s + d + 1 + grace > stream time.
    long firstOpenStart =
        WindowSpec.minus(WindowSpec.minus(streamTime, spec.graceMs()), difference);
    return windows.anyStarting(
        key, Math.max(WindowSpec.minus(time, difference), firstOpenStart), time);
  }

  /**
   * Keeps the entries from one millisecond before the earliest start among the key's open windows
   * on. Every accepted entry at {@code p} registered its right window {@code [p + 1, ...)}, which
   * closes after every window that holds p, including any that a later record could still open; so
   * once that right window has closed, p is needed by no window again.
   */
  @Override
  public void free(byte[] key, long closedStart) {
    long earliest = windows.earliestStart(key, closedStart);
    log.free(
        key,
        WindowSpec.minus(closedStart, 1),
        earliest == Long.MAX_VALUE ? earliest : WindowSpec.minus(earliest, 1));
  }
}
