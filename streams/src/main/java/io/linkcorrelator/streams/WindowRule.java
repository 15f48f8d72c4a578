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
   * will contain, once the window starting at {@code closedStart} has been emitted and removed: by
   * {@link ContributorLog#free}{@code (key, from, to)}, {@code to} the earliest start among the
   * key's open windows (sliding: one before it), or {@link Long#MAX_VALUE} when none is open.
   *
   * <p>The contract the log's whole-page deletes rely on: windows of one key close in start order,
   * so once a window has closed no window starting at or before it opens again, and a later free's
   * {@code from} is never above an earlier one's {@code to}. Tumbling and hopping windows have one
   * size, so their close time (end + grace) orders them as their start does; sliding windows too
   * ({@code [s, s + d + 1)}); sessions do not overlap, so a key's sessions end (and close) in start
   * order, and a merged session starts no later than the sessions it replaces. Every entry below
   * {@code to} is then dead: it is held by no open window and by none that can still open (see each
   * rule's free), so a bucket deleted whole never drops a live entry, and the entries of a bucket
   * only partly below {@code to} that are below it are never read again.
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
