package io.linkcorrelator.streams;

import org.apache.kafka.common.utils.Bytes;

/**
 * Tumbling and hopping windows, as Kafka Streams' {@code KStreamWindowAggregate}: a record at
 * {@code t} belongs to every window {@code [start, start + size)} with {@code start} a multiple of
 * the advance, {@code 0 <= start <= t}; it is late when all of them have closed.
 */
final class TimeWindowRule implements WindowRule {

  private final WindowSpec spec;
  private final OpenWindows windows;
  private final ContributorLog log;

  TimeWindowRule(WindowSpec spec, OpenWindows windows, ContributorLog log) {
    this.spec = spec;
    this.windows = windows;
    this.log = log;
  }

  @Override
  public Assigned assign(byte[] key, long time, long before, long streamTime, long now) {
    long size = spec.sizeMs();
    long advance = spec.advanceMs();
    // As Kafka's TimeWindows.windowsFor.
    long start =
        Math.max(0, WindowSpec.plus(WindowSpec.minus(time, size), advance)) / advance * advance;
    boolean open = false;
    while (true) {
      open |= windows.register(key, start, WindowSpec.plus(start, size), streamTime, now);
      if (start > time - advance) {
        return open
            ? Assigned.OPEN
            : Assigned
                .LATE; // the next start would be past time (written so that it cannot overflow)
      }
      start += advance;
    }
  }

  @Override
  public ContributorLog.Entries contributors(Bytes window) {
    return WindowRule.arrivedBeforeClose(log, spec, window);
  }

  /**
   * Keeps the entries from the earliest start among the key's open windows on. An entry belongs to
   * every open window that holds it from the moment it is accepted, and windows of one key close in
   * start order, so nothing below that start is needed again. A tumbling window is one bucket of
   * the log and the only window of its entries: its bucket goes, without looking for that start.
   */
  @Override
  public void free(byte[] key, long closedStart) {
    long size = spec.sizeMs();
    long keepFrom =
        spec.advanceMs() == size
            ? WindowSpec.plus(closedStart, size)
            : windows.earliestStart(key, closedStart);
    log.free(key, closedStart, keepFrom);
  }
}
