package io.linkcorrelator.streams;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The open windows (each (group key, window) with the wall-clock time it took its first record, the
 * aggregate span's start) and the close index (the same windows ordered by the stream time at which
 * they close), both kinds of keys in the window state {@code <name>-windows} (see {@link
 * StateKeys}). A window stays in both until its result has been forwarded.
 */
final class OpenWindows {

  private static final byte[] EMPTY = new byte[0];

  private final KeyValueStore<Bytes, byte[]> state;
  private final WindowSpec spec;

  /** Windows known to be registered, so that most records skip the store lookup. */
  private final Map<Bytes, Boolean> registered =
      new LinkedHashMap<>(1_024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Bytes, Boolean> eldest) {
          return size() > 10_000;
        }
      };

  private long nextCloseTime;
  private boolean registeredSinceAsked;

  /** Every close-index entry before this close time is gone: scans start here, past tombstones. */
  private long scanFrom = Long.MIN_VALUE;

  /**
   * @param state the window state
   * @param spec the window type
   */
  OpenWindows(KeyValueStore<Bytes, byte[]> state, WindowSpec spec) {
    this.state = state;
    this.spec = spec;
    this.nextCloseTime = firstCloseTime(Long.MIN_VALUE);
  }

  /**
   * Makes the window [start, end) of key known, unless it has closed at {@code streamTime}.
   *
   * @return whether the window is open (newly registered or already known)
   */
  boolean register(byte[] key, long start, long end, long streamTime, long spanStart) {
    long closeTime = spec.closeTime(end);
    if (closeTime <= streamTime) {
      return false;
    }
    Bytes windowKey = StateKeys.window(key, start, end);
    if (registered.containsKey(windowKey)) {
      return true;
    }
    if (state.get(windowKey) == null) {
      state.put(windowKey, ByteBuffer.allocate(8).putLong(spanStart).array());
      state.put(StateKeys.close(closeTime, windowKey), EMPTY);
      nextCloseTime = Math.min(nextCloseTime, closeTime);
      registeredSinceAsked = true;
    }
    registered.put(windowKey, Boolean.TRUE);
    return true;
  }

  /** The wall-clock time the window took its first record, or {@code fallback}. */
  long spanStart(Bytes windowKey, long fallback) {
    byte[] value = state.get(windowKey);
    return value == null ? fallback : ByteBuffer.wrap(value).getLong();
  }

  /** Forgets a window: its open-window and close-index entries. */
  void remove(Bytes windowKey) {
    state.delete(windowKey);
    registered.remove(windowKey);
    state.delete(StateKeys.close(spec.closeTime(StateKeys.windowEnd(windowKey)), windowKey));
  }

  /** Windows of key starting in [fromStart, toStart], in start order. */
  KeyValueIterator<Bytes, byte[]> starting(byte[] key, long fromStart, long toStart) {
    return state.range(StateKeys.windowFrom(key, fromStart), StateKeys.windowTo(key, toStart));
  }

  /** The window of key with the latest start at or before {@code toStart}, or null. */
  Bytes lastStartingBy(byte[] key, long toStart) {
    try (KeyValueIterator<Bytes, byte[]> earlier =
        state.reverseRange(
            StateKeys.windowFrom(key, Long.MIN_VALUE), StateKeys.windowTo(key, toStart))) {
      return earlier.hasNext() ? earlier.next().key : null;
    }
  }

  /** The earliest start among the windows of key starting at or after {@code from}. */
  long earliestStart(byte[] key, long from) {
    try (KeyValueIterator<Bytes, byte[]> open = starting(key, from, Long.MAX_VALUE)) {
      return open.hasNext() ? StateKeys.windowStart(open.next().key) : Long.MAX_VALUE;
    }
  }

  /** Whether some window may be due at {@code streamTime} (a cheap check before {@link #due}). */
  boolean anyDue(long streamTime) {
    return streamTime >= nextCloseTime;
  }

  /**
   * The first window due at {@code streamTime} (close time at or before it), in close order, or
   * null; when there is none, remembers when the next one is due.
   */
  Bytes firstDue(long streamTime) {
    try (KeyValueIterator<Bytes, byte[]> closing =
        state.range(StateKeys.closeFrom(scanFrom), StateKeys.closeTo(streamTime))) {
      if (closing.hasNext()) {
        Bytes closeKey = closing.next().key;
        scanFrom = StateKeys.closeTime(closeKey);
        return StateKeys.windowOfClose(closeKey);
      }
    }
    nextCloseTime = firstCloseTime(scanFrom);
    return null;
  }

  /** The due window after {@code previous} in close order (previous is still stored), or null. */
  Bytes dueAfter(Bytes previous, long streamTime) {
    byte[] closeKey =
        StateKeys.close(spec.closeTime(StateKeys.windowEnd(previous)), previous).get();
    byte[] after = java.util.Arrays.copyOf(closeKey, closeKey.length + 1);
    try (KeyValueIterator<Bytes, byte[]> closing =
        state.range(Bytes.wrap(after), StateKeys.closeTo(streamTime))) {
      return closing.hasNext() ? StateKeys.windowOfClose(closing.next().key) : null;
    }
  }

  /** Whether a window was registered since the last call (the stream time should be stored). */
  boolean takeRegistered() {
    boolean value = registeredSinceAsked;
    registeredSinceAsked = false;
    return value;
  }

  private long firstCloseTime(long from) {
    try (KeyValueIterator<Bytes, byte[]> first =
        state.range(StateKeys.closeFrom(from), StateKeys.closeEnd())) {
      return first.hasNext() ? StateKeys.closeTime(first.next().key) : Long.MAX_VALUE;
    }
  }
}
