package io.linkcorrelator.streams;

/**
 * One window type's rules, over the shared {@link OpenWindows} and {@link ContributorLog}: which
 * windows a record opens or joins, when a record is late, and what the log keeps once a window has
 * closed. Each mirrors Kafka Streams' own aggregation processor for that window type.
 */
interface WindowRule {

  /**
   * Registers the windows the record at {@code time} of {@code key} opens or joins.
   *
   * @param streamTime the stream time including this record
   * @param now wall-clock time, the span start of a window opened now
   * @return whether the record counts in at least one open window; false when it is late
   */
  boolean assign(byte[] key, long time, long streamTime, long now);

  /**
   * Frees the log entries of {@code key} that no open window, and no window that can still open,
   * will contain, once the window {@code [closedStart, closedEnd)} has been emitted and removed.
   */
  void free(byte[] key, long closedStart);

  /**
   * The rule of the window type.
   *
   * @param latestEnd a stored value for the session rule (the latest session end it stored)
   */
  static WindowRule of(
      WindowSpec spec, OpenWindows windows, ContributorLog log, StoredLong latestEnd) {
    return switch (spec.type()) {
      case TUMBLING, HOPPING -> new TimeWindowRule(spec, windows, log);
      case SLIDING -> new SlidingWindowRule(spec, windows, log);
      case SESSION -> new SessionWindowRule(spec, windows, log, latestEnd);
      default -> throw new IllegalArgumentException("unsupported window type " + spec.type());
    };
  }
}
