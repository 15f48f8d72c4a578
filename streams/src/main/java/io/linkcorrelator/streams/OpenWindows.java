package io.linkcorrelator.streams;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The open windows: each (group key, window) with the wall-clock time it took its first record (the
 * aggregate span's start) and, for a session that reaches back over older sessions, the bound of
 * their entries ({@link SessionWindowRule}), kept in the window state {@code <name>-windows} (see
 * {@link StateKeys}); and the close index, the same windows ordered by the stream time at which
 * they close, kept here in memory and built from the store when the task starts (one scan per task
 * start, which restoring the store costs anyway). A window stays until its result has been
 * forwarded.
 *
 * <p>Removing an emitted window: under exactly-once at once (a transaction's changelog records are
 * restored all or none). Under at-least-once a commit's flush can be cut by a crash, and the record
 * cache writes a store's dirty keys in the order of their <em>last</em> write, so the stream time
 * that closed a window, written again later in the same commit, would reach the changelog after the
 * window's deletion: a restart would reopen the window for the replayed records and emit it again
 * with part of its contributors. So there the window is taken out of the close index and out of
 * what the rules see at once, deleted from the store only once the window state's cache has written
 * since (the stream time that closed it has reached the changelog), and its log entries freed only
 * once the cache has written again (its deletion has): a crash in between emits it again, whole.
 */
final class OpenWindows {

  /** Windows settled (deleted or freed) per call at most: bounded work per record. */
  static final int SETTLED_PER_CALL = 200;

  private final KeyValueStore<Bytes, byte[]> state;
  private final WindowSpec spec;

  /** The close index: every open window by close time, then window key. */
  private final TreeSet<Due> due = new TreeSet<>();

  /** The windows in the close index, by key: whether a window is open without a search. */
  private final Set<Bytes> open = new HashSet<>();

  /** Writes and flushes of the window state's cache, or null: emitted windows go at once. */
  private final AtomicLong flushes;

  /** Emitted windows, each with the count of the cache's writes when its result was forwarded. */
  private final ArrayDeque<Settling> toDelete = new ArrayDeque<>();

  /** Emitted windows deleted from the store, their log entries not yet freed. */
  private final ArrayDeque<Bytes> toFree = new ArrayDeque<>();

  /** The count of the cache's writes right after the last deletion of an emitted window. */
  private long deletedAt;

  private boolean registeredSinceAsked;

  /** A window in the close index: it closes when stream time reaches {@code closeTime}. */
  private record Due(long closeTime, Bytes window) implements Comparable<Due> {
    @Override
    public int compareTo(Due other) {
      int byTime = Long.compare(closeTime, other.closeTime);
      return byTime != 0 ? byTime : window.compareTo(other.window);
    }
  }

  /** An emitted window waiting for the cache to write after {@code flushes} had this value. */
  private record Settling(Bytes window, long flushes) {}

  /**
   * Builds the close index from the store's open windows and deletes the close-index entries an
   * earlier layout kept in the store.
   *
   * @param state the window state
   * @param spec the window type
   * @param flushes the count of the window state's cache writes and flushes ({@link CacheFlushes})
   *     when emitted windows must wait for it (at-least-once), or null (exactly-once)
   */
  OpenWindows(KeyValueStore<Bytes, byte[]> state, WindowSpec spec, AtomicLong flushes) {
    this.state = state;
    this.spec = spec;
    this.flushes = flushes;
    try (KeyValueIterator<Bytes, byte[]> stored =
        state.range(StateKeys.windowsFrom(), StateKeys.windowsTo())) {
      stored.forEachRemaining(window -> index(window.key));
    }
    StateKeys.deleteEarlierCloseIndex(state);
  }

  /**
   * Makes the window [start, end) of key known, unless it has closed at {@code streamTime}.
   *
   * @return whether the window is open (newly registered or already known)
   */
  boolean register(byte[] key, long start, long end, long streamTime, long spanStart) {
    return register(key, start, end, streamTime, spanStart, Long.MIN_VALUE);
  }

  /**
   * Makes the window [start, end) of key known, unless it has closed at {@code streamTime}; a
   * window already known keeps what it has.
   *
   * @param olderUntil for a session, the bound of the older sessions' entries it excludes ({@link
   *     SessionWindowRule}), stored with it (8 bytes more); {@link Long#MIN_VALUE}: none
   * @return whether the window is open (newly registered or already known)
   */
  boolean register(
      byte[] key, long start, long end, long streamTime, long spanStart, long olderUntil) {
    long closeTime = spec.closeTime(end);
    if (closeTime <= streamTime) {
      return false;
    }
    Bytes windowKey = StateKeys.window(key, start, end);
    if (open.add(windowKey)) {
      due.add(new Due(closeTime, windowKey));
      ByteBuffer value = ByteBuffer.allocate(olderUntil == Long.MIN_VALUE ? 8 : 16);
      value.putLong(spanStart);
      if (olderUntil != Long.MIN_VALUE) {
        value.putLong(olderUntil);
      }
      state.put(windowKey, value.array());
      registeredSinceAsked = true;
    }
    return true;
  }

  /** The wall-clock time the window took its first record, or {@code fallback}. */
  long spanStart(Bytes windowKey, long fallback) {
    byte[] value = state.get(windowKey);
    return value == null ? fallback : ByteBuffer.wrap(value).getLong();
  }

  /**
   * The bound of the older sessions' entries that the session excludes, as registered; {@link
   * Long#MIN_VALUE} when none (or the window is unknown).
   */
  long olderUntil(Bytes windowKey) {
    byte[] value = state.get(windowKey);
    return value == null || value.length < 16 ? Long.MIN_VALUE : ByteBuffer.wrap(value).getLong(8);
  }

  /** Forgets a window that was merged into another (a session): no result of its own. */
  void remove(Bytes windowKey) {
    unindex(windowKey);
    state.delete(windowKey);
  }

  /**
   * Forgets a window whose result has been forwarded, and frees its log entries by {@code rule}: at
   * once, or under at-least-once in two steps of {@link #settle} (see the class comment).
   */
  void emitted(Bytes windowKey, WindowRule rule) {
    unindex(windowKey);
    if (flushes == null) {
      state.delete(windowKey);
      free(windowKey, rule);
    } else {
      toDelete.add(new Settling(windowKey, flushes.get()));
    }
  }

  /**
   * Deletes and frees every emitted window now: the task closes, and Kafka Streams flushes its
   * stores after that (a crash in that last flush may bring a window back with part of its log).
   */
  void settleAll(WindowRule rule) {
    toFree.forEach(window -> free(window, rule));
    toFree.clear();
    for (Settling settling : toDelete) {
      state.delete(settling.window());
      free(settling.window(), rule);
    }
    toDelete.clear();
  }

  /**
   * Under at-least-once: frees the log entries of emitted windows whose deletion the cache has
   * written since, then deletes emitted windows whose closing stream time it has written since; at
   * most {@value #SETTLED_PER_CALL} windows per call. A free runs only while no deletion is
   * unwritten, so it never frees the entries of a window that a restart would bring back.
   */
  void settle(WindowRule rule) {
    if (flushes == null) {
      return;
    }
    int budget = SETTLED_PER_CALL;
    if (flushes.get() != deletedAt) { // every deletion so far is written
      while (budget > 0 && !toFree.isEmpty()) {
        free(toFree.poll(), rule);
        budget--;
      }
      if (!toFree.isEmpty()) {
        return; // frees first: none may see a deletion that has not been written
      }
    }
    long now = flushes.get();
    boolean deleted = false;
    while (budget > 0 && !toDelete.isEmpty() && toDelete.peek().flushes() != now) {
      Bytes window = toDelete.poll().window();
      state.delete(window);
      toFree.add(window);
      deleted = true;
      budget--;
    }
    if (deleted) {
      deletedAt = flushes.get(); // after the last delete (which may have evicted)
    }
  }

  private static void free(Bytes windowKey, WindowRule rule) {
    rule.free(StateKeys.groupKeyBytesOfWindow(windowKey), StateKeys.windowStart(windowKey));
  }

  /** Windows of key starting in [fromStart, toStart], in start order (emitted ones hidden). */
  List<Bytes> starting(byte[] key, long fromStart, long toStart) {
    List<Bytes> windows = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> range =
        state.range(StateKeys.windowFrom(key, fromStart), StateKeys.windowTo(key, toStart))) {
      while (range.hasNext()) {
        Bytes window = range.next().key;
        if (isOpen(window)) {
          windows.add(window);
        }
      }
    }
    return windows;
  }

  /** Whether a window of key starting in [fromStart, toStart] is open. */
  boolean anyStarting(byte[] key, long fromStart, long toStart) {
    try (KeyValueIterator<Bytes, byte[]> range =
        state.range(StateKeys.windowFrom(key, fromStart), StateKeys.windowTo(key, toStart))) {
      while (range.hasNext()) {
        if (isOpen(range.next().key)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * The open window of key with the latest start at or before {@code toStart} among those ending
   * after {@code endsAfter} (exclusive ends), or null. The others passed over on the way are
   * sessions no longer merged, each waiting for its close or its emission ({@link
   * SessionWindowRule}).
   */
  Bytes lastStartingBy(byte[] key, long toStart, long endsAfter) {
    try (KeyValueIterator<Bytes, byte[]> earlier =
        state.reverseRange(
            StateKeys.windowFrom(key, Long.MIN_VALUE), StateKeys.windowTo(key, toStart))) {
      while (earlier.hasNext()) {
        KeyValue<Bytes, byte[]> window = earlier.next();
        if (isOpen(window.key) && StateKeys.windowEnd(window.key) > endsAfter) {
          return window.key;
        }
      }
    }
    return null;
  }

  /**
   * The earliest start among the stored windows of key starting at or after {@code from} (emitted
   * ones not yet deleted included: their entries are freed by their own free).
   */
  long earliestStart(byte[] key, long from) {
    try (KeyValueIterator<Bytes, byte[]> stored =
        state.range(StateKeys.windowFrom(key, from), StateKeys.windowTo(key, Long.MAX_VALUE))) {
      return stored.hasNext() ? StateKeys.windowStart(stored.next().key) : Long.MAX_VALUE;
    }
  }

  /** Whether some window is due at {@code streamTime} (close time at or before it). */
  boolean anyDue(long streamTime) {
    return !due.isEmpty() && due.first().closeTime() <= streamTime;
  }

  /** The first window due at {@code streamTime}, in close order, or null. */
  Bytes firstDue(long streamTime) {
    return anyDue(streamTime) ? due.first().window() : null;
  }

  /** The due window after {@code previous} in close order (previous is still open), or null. */
  Bytes dueAfter(Bytes previous, long streamTime) {
    Due next = due.higher(new Due(closeTime(previous), previous));
    return next != null && next.closeTime() <= streamTime ? next.window() : null;
  }

  /** Whether a window was registered since the last call (the stream time should be stored). */
  boolean takeRegistered() {
    boolean value = registeredSinceAsked;
    registeredSinceAsked = false;
    return value;
  }

  /**
   * Whether a window the store's range returned is open: in the close index (so neither emitted nor
   * removed). Kafka's record cache can return a window deleted from it in a reverse range (Kafka
   * 4.4: when the cache holds the deletion but not the keys beside it, which it evicted, the
   * deletion is passed over and the store's stale entry comes back); the close index is the truth.
   */
  private boolean isOpen(Bytes window) {
    return open.contains(window);
  }

  private void index(Bytes window) {
    open.add(window);
    due.add(new Due(closeTime(window), window));
  }

  private void unindex(Bytes window) {
    open.remove(window);
    due.remove(new Due(closeTime(window), window));
  }

  private long closeTime(Bytes windowKey) {
    return spec.closeTime(StateKeys.windowEnd(windowKey));
  }
}
