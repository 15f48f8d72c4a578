package io.linkcorrelator.streams;

import io.linkcorrelator.schemas.WindowType;
import java.time.Duration;

/**
 * Which windows group the messages, by event time. Every window has a grace period: a record may
 * arrive that much later than the window's end (in stream time) and still count; after that the
 * window closes, its result is emitted once, and later records for it are counted as late.
 *
 * <ul>
 *   <li>{@link #tumbling}: fixed-size, non-overlapping windows {@code [k·size, (k+1)·size)}.
 *   <li>{@link #hopping}: fixed-size windows starting every {@code advance}; a record belongs to
 *       {@code size/advance} of them.
 *   <li>{@link #sliding}: Kafka Streams' sliding windows: for each record at {@code t}, the window
 *       {@code [t - difference, t]}, and {@code [t + 1, t + 1 + difference]} when that one holds a
 *       record; both ends inclusive.
 *   <li>{@link #session}: per key, records closer than {@code gap} to each other form one session
 *       {@code [first, last]}; sessions merge when a record bridges them.
 * </ul>
 *
 * <p>Internally a window is {@code [start, end)} with an exclusive end; for sliding and session
 * windows that is the last included millisecond plus one, as in the output record.
 *
 * @param type the kind of window
 * @param sizeMs window size (tumbling, hopping), or {@code difference + 1} (sliding), or 0
 *     (session)
 * @param advanceMs hop between window starts (hopping; equals size for tumbling; 0 otherwise)
 * @param gapMs inactivity gap (session; 0 otherwise)
 * @param graceMs grace period
 */
public record WindowSpec(WindowType type, long sizeMs, long advanceMs, long gapMs, long graceMs) {

  /**
   * Validates the values; see the factories.
   *
   * @throws IllegalArgumentException naming the configuration key of a bad value
   */
  public WindowSpec {
    if (type == null || type == WindowType.UNKNOWN) {
      throw new IllegalArgumentException(
          "correlator.window.type must be one of tumbling, hopping, sliding, session; got " + type);
    }
    if (graceMs < 0) {
      throw new IllegalArgumentException("correlator.window.grace.ms must be >= 0, got " + graceMs);
    }
    switch (type) {
      case TUMBLING, HOPPING -> {
        if (sizeMs <= 0) {
          throw new IllegalArgumentException(
              "correlator.window.size.ms must be > 0, got " + sizeMs);
        }
        if (advanceMs <= 0 || advanceMs > sizeMs) {
          throw new IllegalArgumentException(
              "correlator.window.advance.ms must be > 0 and <= correlator.window.size.ms ("
                  + sizeMs
                  + "), got "
                  + advanceMs);
        }
      }
      case SLIDING -> {
        if (sizeMs <= 1) {
          throw new IllegalArgumentException(
              "correlator.window.size.ms (the time difference of a sliding window) must be > 0, got "
                  + (sizeMs - 1));
        }
      }
      case SESSION -> {
        if (gapMs <= 0) {
          throw new IllegalArgumentException("correlator.window.gap.ms must be > 0, got " + gapMs);
        }
      }
      default ->
          throw new IllegalArgumentException(
              "correlator.window.type " + type + " is not supported");
    }
  }

  /**
   * Tumbling windows.
   *
   * @param size window size
   * @param grace grace period
   * @return the spec
   */
  public static WindowSpec tumbling(Duration size, Duration grace) {
    return new WindowSpec(
        WindowType.TUMBLING, size.toMillis(), size.toMillis(), 0, grace.toMillis());
  }

  /**
   * Hopping windows.
   *
   * @param size window size
   * @param advance hop between window starts, at most {@code size}
   * @param grace grace period
   * @return the spec
   */
  public static WindowSpec hopping(Duration size, Duration advance, Duration grace) {
    return new WindowSpec(
        WindowType.HOPPING, size.toMillis(), advance.toMillis(), 0, grace.toMillis());
  }

  /**
   * Sliding windows, as Kafka Streams' {@code SlidingWindows.ofTimeDifferenceAndGrace}.
   *
   * @param timeDifference the largest time difference between two records of one window
   * @param grace grace period
   * @return the spec
   */
  public static WindowSpec sliding(Duration timeDifference, Duration grace) {
    return new WindowSpec(
        WindowType.SLIDING, timeDifference.toMillis() + 1, 0, 0, grace.toMillis());
  }

  /**
   * Session windows.
   *
   * @param inactivityGap the gap that ends a session
   * @param grace grace period
   * @return the spec
   */
  public static WindowSpec session(Duration inactivityGap, Duration grace) {
    return new WindowSpec(WindowType.SESSION, 0, 0, inactivityGap.toMillis(), grace.toMillis());
  }

  /**
   * When a window closes: the stream time at which it is final and emitted.
   *
   * @param endMs exclusive window end
   * @return the close time; the window is closed when stream time is at or past it
   */
  long closeTime(long endMs) {
    return plus(plus(endMs, gapMs), graceMs);
  }

  /** {@code a + b} for {@code b >= 0}, saturated at {@link Long#MAX_VALUE}. */
  static long plus(long a, long b) {
    long sum = a + b;
    return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
  }

  /** {@code a - b} for {@code b >= 0}, saturated at {@link Long#MIN_VALUE}. */
  static long minus(long a, long b) {
    long difference = a - b;
    return ((a ^ b) & (a ^ difference)) < 0 ? Long.MIN_VALUE : difference;
  }

  /** The time difference of sliding windows. */
  long slidingDifferenceMs() {
    return sizeMs - 1;
  }
}
