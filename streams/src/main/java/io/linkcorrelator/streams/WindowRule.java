package io.linkcorrelator.streams;

import org.apache.kafka.common.utils.Bytes;

/**
 * One window type's rules, over the shared {@link OpenWindows} and {@link ContributorLog}: which
 * windows a record opens or joins, when a record is late, and what the log keeps once a window has
 * closed. Each mirrors Kafka Streams' own aggregation processor for that window type.
 */
interface WindowRule {

  /** What became of a record ({@link #assign}). */
  enum Assigned {
    /** It counts in no window: late. */
    LATE,
    /** It counts in at least one open window. */
    OPEN,
    /**
     * It counts in a session of its own that no later record will merge with (it started in the
     * last millisecond before that session closes): its log entry is marked, see {@link
     * SessionWindowRule}.
     */
    AT_HORIZON
  }

  /**
   * Registers the windows the record at {@code time} of {@code key} opens or joins.
   *
   * @param before the stream time before this record
   * @param streamTime the stream time including this record
   * @param now wall-clock time, the span start of a window opened now
   * @return whether the record counts in an open window, and how
   */
  Assigned assign(byte[] key, long time, long before, long streamTime, long now);

  /**
   * The contributors of a closed window, from the log: the entries of its key in its time range
   * that it holds (for time and sliding windows, those that arrived before it closed).
   */
  ContributorLog.Entries contributors(Bytes window);

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
   * ({@code [s, s + d + 1)}). Sessions may overlap (a later session can reach back over one that is
   * no longer merged, see {@link SessionWindowRule}), so their {@code to} is the earliest start
   * among all the key's open sessions, whatever the closed one's start: a free that would reach an
   * open session frees nothing, and that session's own free covers the range later. A session that
   * reaches back below {@code to} later holds only entries appended after it did. Every entry below
   * {@code to} is then dead: it is held by no open window and by none that can still open (see each
   * rule's free), so a bucket deleted whole never drops a live entry, and the entries of a bucket
   * only partly below {@code to} that are below it are never read again.
   */
  void free(byte[] key, long closedStart);

  /**
   * The entries of {@code window}'s key in its time range that arrived before it closed: the
   * contributors of a time or sliding window, whose result may be built after records that other
   * windows of its time range still took.
   */
  static ContributorLog.Entries arrivedBeforeClose(
      ContributorLog log, WindowSpec spec, Bytes window) {
    long end = StateKeys.windowEnd(window);
    return log.entries(
        StateKeys.groupKeyBytesOfWindow(window),
        StateKeys.windowStart(window),
        end - 1,
        (time, arrival, atHorizon) -> arrival < spec.closeTime(end));
  }

  /** The rule of the window type. */
  static WindowRule of(WindowSpec spec, OpenWindows windows, ContributorLog log) {
    return switch (spec.type()) {
      case TUMBLING, HOPPING -> new TimeWindowRule(spec, windows, log);
      case SLIDING -> new SlidingWindowRule(spec, windows, log);
      case SESSION -> new SessionWindowRule(spec, windows, log);
      default -> throw new IllegalArgumentException("unsupported window type " + spec.type());
    };
  }
}
